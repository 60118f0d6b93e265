from django.urls import path

from opsassure.alerting import views_ingest

# The ingest endpoints are plain views (the URL token is the credential); the generic walk of
# router routes does not apply to them: tests/alerting/test_ingest.py covers them.
urlpatterns = [
    path("alerting/ingest/<str:token>/", views_ingest.receive, name="alerting-ingest"),
    path(
        "alerting/events/v2/enqueue",
        views_ingest.events_v2_enqueue,
        name="alerting-events-v2",
    ),
]
