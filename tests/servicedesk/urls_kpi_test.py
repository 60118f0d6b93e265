"""The project's URLs plus the KPI dashboard under the "servicedesk" namespace.

Until servicedesk/urls.py includes ``opsassure.servicedesk.urls_kpi`` (the integrator wires
it), view tests use this urlconf through ``@pytest.mark.urls``. The servicedesk routes that
exist are mounted with it under one namespace, so neither hides the other.
"""

from importlib import import_module

from django.urls import NoReverseMatch, include, path, reverse

from opsassure import urls as project
from opsassure.servicedesk import urls_kpi

try:
    reverse("servicedesk:kpi-dashboard", urlconf=project)
    urlpatterns = list(project.urlpatterns)
except NoReverseMatch:
    try:
        existing = list(import_module("opsassure.servicedesk.urls").urlpatterns)
    except ModuleNotFoundError:
        existing = []
    urlpatterns = [
        path("servicedesk/", include(([*existing, *urls_kpi.urlpatterns], "servicedesk"))),
        *project.urlpatterns,
    ]
handler400 = project.handler400
handler403 = project.handler403
handler404 = project.handler404
handler500 = project.handler500
