"""Typed access to the signed-in user of a request."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.request import Request

from opsassure.core.models.users import User


def request_user(request: HttpRequest | Request) -> User:
    """The authenticated ``User``; views call this only behind login/permission checks."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionError("an authenticated user is required")
    return user
