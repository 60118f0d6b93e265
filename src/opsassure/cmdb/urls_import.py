"""UI routes of the CI import wizard and the CI export; included by cmdb/urls.py (app "cmdb")."""

from django.urls import path

from opsassure.cmdb import views_import

urlpatterns = [
    path("cis/import/", views_import.ci_import, name="ci-import"),
    path("cis/import/template/", views_import.ci_import_template, name="ci-import-template"),
    path("cis/export/", views_import.ci_export, name="ci-export"),
]
