"""The project's URLs plus the import/export UI routes under the "cmdb" namespace.

Until cmdb/urls.py includes ``opsassure.cmdb.urls_import`` (the lead wires it), view tests
use this urlconf through ``@pytest.mark.urls``.
"""

from django.urls import include, path

from opsassure import urls as project

urlpatterns = [
    path("cmdb/", include(("opsassure.cmdb.urls_import", "cmdb"))),
    *project.urlpatterns,
]
handler400 = project.handler400
handler403 = project.handler403
handler404 = project.handler404
handler500 = project.handler500
