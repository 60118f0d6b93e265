from opsassure.cmdb.api import importing, views
from opsassure.core.api.router import router

router.register("cmdb/cis", views.CIViewSet, basename="cmdb-ci")
router.register("cmdb/types", views.CITypeViewSet, basename="cmdb-citype")
router.register("cmdb/relations", views.RelationViewSet, basename="cmdb-relation")
router.register("cmdb/changes", views.CIChangeViewSet, basename="cmdb-cichange")
router.register("cmdb/tags", views.TagViewSet, basename="cmdb-tag")
router.register("cmdb/suppliers", views.SupplierViewSet, basename="cmdb-supplier")
router.register("cmdb/locations", views.LocationViewSet, basename="cmdb-location")
router.register("cmdb/contracts", views.MaintenanceContractViewSet, basename="cmdb-contract")
router.register("cmdb/imports", importing.CIImportViewSet, basename="cmdb-import")
router.register("cmdb/exports", importing.CIExportViewSet, basename="cmdb-export")
