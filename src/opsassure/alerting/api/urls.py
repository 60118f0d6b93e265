from django.urls import path

from opsassure.alerting import views_ingest
from opsassure.alerting.api import views
from opsassure.core.api.router import router

router.register("alerting/integrations", views.IntegrationViewSet, basename="alerting-integration")
router.register("alerting/alerts", views.AlertViewSet, basename="alerting-alert")
router.register("alerting/groups", views.AlertGroupViewSet, basename="alerting-group")
router.register("alerting/routing-rules", views.RoutingRuleViewSet, basename="alerting-routingrule")
router.register("alerting/silences", views.SilenceViewSet, basename="alerting-silence")
router.register(
    "alerting/maintenance-windows",
    views.MaintenanceWindowViewSet,
    basename="alerting-maintenancewindow",
)
router.register(
    "alerting/inhibition-rules", views.InhibitionRuleViewSet, basename="alerting-inhibitionrule"
)

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
