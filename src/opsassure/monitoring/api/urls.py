"""Monitoring API: checks and probes (checks_api), the probe protocol (probe_api), agents,
metrics and threshold rules (agent_api). Each module registers its viewsets on the shared
router and lists its plain routes in ``urlpatterns``."""

from django.urls import URLPattern

from opsassure.monitoring.api import agent_api, checks_api, probe_api

urlpatterns: list[URLPattern] = [
    *probe_api.urlpatterns,
    *agent_api.urlpatterns,
    *checks_api.urlpatterns,
]
