"""UI routes of the configuration audit; included from ``cmdb/urls.py`` (namespace "cmdb")."""

from django.urls import path

from opsassure.cmdb import views_compliance

urlpatterns = [
    path("compliance/", views_compliance.compliance_dashboard, name="compliance"),
    path("compliance/run/", views_compliance.run_audit_now, name="audit-run-now"),
    path(
        "compliance/findings/",
        views_compliance.AuditFindingListView.as_view(),
        name="audit-findings",
    ),
]
