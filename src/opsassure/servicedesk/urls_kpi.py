"""UI route of the KPI dashboard, included from ``servicedesk/urls.py`` ("servicedesk")."""

from django.urls import path

from opsassure.servicedesk import views_kpi

urlpatterns = [
    path("kpis/", views_kpi.kpi_dashboard, name="kpi-dashboard"),
]
