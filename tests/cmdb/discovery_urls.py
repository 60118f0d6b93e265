"""The project's URLs plus the discovery UI, mounted as cmdb/urls.py will (for the UI tests).

Mounted without a namespace so the tests run whether or not cmdb/urls.py includes the module.
"""

from django.urls import include, path

from opsassure import urls as project_urls

urlpatterns = [
    path("discovery-ui/", include("opsassure.cmdb.urls_discovery")),
    *project_urls.urlpatterns,
]

handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
