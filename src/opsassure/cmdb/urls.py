from django.urls import include, path
from django.views.generic import RedirectView

from opsassure.cmdb import type_views, views

app_name = "cmdb"

urlpatterns = [
    # /cmdb/ itself: its main page (people type the short address).
    path("", RedirectView.as_view(pattern_name="cmdb:ci-list"), name="home"),
    path("cis/", views.CIListView.as_view(), name="ci-list"),
    path("cis/expiring/", views.expiring_warranties, name="ci-expiring"),
    path("cis/new/", views.ci_create, name="ci-create"),
    path("cis/attribute-fields/", views.attribute_fields, name="ci-attribute-fields"),
    path("cis/bulk-edit/", views.bulk_edit, name="ci-bulk-edit"),
    path("cis/<int:pk>/", views.CIDetailView.as_view(), name="ci-detail"),
    path("cis/<int:pk>/edit/", views.ci_edit, name="ci-edit"),
    path("cis/<int:pk>/relations/", views.relations, name="ci-relations"),
    path("cis/<int:pk>/relation-targets/", views.relation_targets, name="ci-relation-targets"),
    path("cis/<int:pk>/history/", views.history, name="ci-history"),
    path("cis/<int:pk>/as-of/", views.as_of, name="ci-as-of"),
    path("relations/<int:pk>/delete/", views.relation_delete, name="relation-delete"),
    path("types/", type_views.CITypeListView.as_view(), name="type-list"),
    path("types/new/", type_views.type_create, name="type-create"),
    path("types/<int:pk>/edit/", type_views.type_edit, name="type-edit"),
    # CSV/Excel import and export (cmdb:ci-import, cmdb:ci-export), the configuration audit
    # (cmdb:compliance) and discovery discrepancies live in their own modules, same namespace.
    path("", include("opsassure.cmdb.urls_import")),
    path("", include("opsassure.cmdb.urls_compliance")),
    path("", include("opsassure.cmdb.urls_discovery")),
]
