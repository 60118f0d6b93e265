from django.urls import path

from opsassure.core.api.router import router
from opsassure.servicedesk.api import kpi, views

router.register("servicedesk/tickets", views.TicketViewSet, basename="servicedesk-ticket")
router.register(
    "servicedesk/attachments", views.AttachmentViewSet, basename="servicedesk-attachment"
)
router.register("servicedesk/sla-clocks", views.SlaClockViewSet, basename="servicedesk-slaclock")
router.register(
    "servicedesk/escalations", views.EscalationViewSet, basename="servicedesk-escalation"
)
router.register("servicedesk/ratings", views.RatingViewSet, basename="servicedesk-rating")

# The e-mailed rating link works without a login (the signed token is the credential), so it
# is not a router viewset; tests/servicedesk/test_api.py covers it.
urlpatterns = [
    path(
        "servicedesk/rating-links/",
        views.RateByTokenView.as_view(),
        name="servicedesk-rate-by-token",
    ),
    # KPIs have no rows to walk: tests/servicedesk/test_kpi_api.py covers their scope.
    path("servicedesk/kpis/", kpi.KpiView.as_view(), name="servicedesk-kpis"),
]
