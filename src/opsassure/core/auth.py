"""Typed access to the signed-in user of a request, and to its bearer token."""

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


def bearer_token(request: HttpRequest) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or ``""`` when there is none."""
    scheme, _sep, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""
