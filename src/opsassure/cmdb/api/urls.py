from django.urls import path

from opsassure.cmdb.api import compliance, discovery, importing, prometheus, views
from opsassure.core.api.router import router

router.register("cmdb/cis", views.CIViewSet, basename="cmdb-ci")
router.register("cmdb/types", views.CITypeViewSet, basename="cmdb-citype")
router.register("cmdb/relations", views.RelationViewSet, basename="cmdb-relation")
router.register("cmdb/changes", views.CIChangeViewSet, basename="cmdb-cichange")
router.register("cmdb/tags", views.TagViewSet, basename="cmdb-tag")
router.register("cmdb/suppliers", views.SupplierViewSet, basename="cmdb-supplier")
router.register("cmdb/locations", views.LocationViewSet, basename="cmdb-location")
router.register("cmdb/contracts", views.MaintenanceContractViewSet, basename="cmdb-contract")
router.register("cmdb/audit-rules", compliance.AuditRuleViewSet, basename="cmdb-auditrule")
router.register("cmdb/audit-runs", compliance.AuditRunViewSet, basename="cmdb-auditrun")
router.register("cmdb/audit-scores", compliance.AuditScoreViewSet, basename="cmdb-auditscore")
router.register("cmdb/audit-findings", compliance.AuditFindingViewSet, basename="cmdb-auditfinding")
router.register("cmdb/audit-summary", compliance.AuditSummaryViewSet, basename="cmdb-auditsummary")
router.register("cmdb/discoveries", discovery.DiscoveryViewSet, basename="cmdb-discovery")
router.register("cmdb/discrepancies", discovery.DiscrepancyViewSet, basename="cmdb-discrepancy")
router.register("cmdb/imports", importing.CIImportViewSet, basename="cmdb-import")
router.register("cmdb/exports", importing.CIExportViewSet, basename="cmdb-export")

# Routes that cannot be router viewsets (mounted under /api/v1/ by opsassure/urls.py). The
# generic isolation test does not walk them: each has its own tenant test.
urlpatterns = [
    path(
        "cmdb/prometheus-sd/",
        prometheus.PrometheusSDView.as_view(),
        name="cmdb-prometheus-sd",
    ),
]
