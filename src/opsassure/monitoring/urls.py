"""Monitoring UI, mounted at /monitoring/: checks, probes, overview (urls_checks); agents,
metrics and threshold rules (urls_metrics)."""

from django.urls import URLPattern

from opsassure.monitoring import urls_checks, urls_metrics

app_name = "monitoring"
urlpatterns: list[URLPattern] = [*urls_checks.urlpatterns, *urls_metrics.urlpatterns]
