"""Discovery UI routes; included from cmdb/urls.py (no namespace of their own)."""

from django.urls import path

from opsassure.cmdb import views_discovery

urlpatterns = [
    path(
        "discrepancies/",
        views_discovery.DiscrepancyListView.as_view(),
        name="discrepancy-list",
    ),
    path(
        "discrepancies/<int:pk>/accept/",
        views_discovery.accept,
        name="discrepancy-accept",
    ),
    path(
        "discrepancies/<int:pk>/reject/",
        views_discovery.reject,
        name="discrepancy-reject",
    ),
]
