"""Monitoring UI routes of this part (included by monitoring/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
