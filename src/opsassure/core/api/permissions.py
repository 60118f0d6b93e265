from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request


class ModelPermissions(permissions.DjangoModelPermissions):
    """Django model permissions, including ``view_*`` for reads (DRF's default skips reads).

    Tenant scope is not decided here: the base viewset's queryset already holds only rows the
    user may see, so another customer's object is a 404, never a 403.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(view, "skip_model_permissions", False):
            return bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)
