"""One router for the whole API. Apps register their viewsets in ``<app>/api/urls.py``."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter(trailing_slash=True)
