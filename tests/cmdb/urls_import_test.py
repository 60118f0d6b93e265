"""The project's URLs plus the import/export UI routes under the "cmdb" namespace.

Until cmdb/urls.py includes ``opsassure.cmdb.urls_import`` (the lead wires it), view tests
use this urlconf through ``@pytest.mark.urls``. Once the include is there, this is simply the
site's own URLconf (a second "cmdb" namespace would hide the CI pages the menu links to).
"""

from django.urls import NoReverseMatch, include, path, reverse

from opsassure import urls as project

try:
    reverse("cmdb:ci-import", urlconf=project)
    urlpatterns = list(project.urlpatterns)
except NoReverseMatch:
    urlpatterns = [
        path("cmdb/", include(("opsassure.cmdb.urls_import", "cmdb"))),
        *project.urlpatterns,
    ]
handler400 = project.handler400
handler403 = project.handler403
handler404 = project.handler404
handler500 = project.handler500
