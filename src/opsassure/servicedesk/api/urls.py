from django.urls import path

from opsassure.servicedesk.api import kpi

# Routes that are not router viewsets (mounted under /api/v1/ by opsassure/urls.py).
urlpatterns = [
    path("servicedesk/kpis/", kpi.KpiView.as_view(), name="servicedesk-kpis"),
]
