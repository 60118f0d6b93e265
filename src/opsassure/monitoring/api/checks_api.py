"""Monitoring API routes of this part (registered on the shared router at import)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
