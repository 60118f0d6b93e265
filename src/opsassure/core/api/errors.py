"""The one error format: ``{"error": {"code", "message", "fields"}}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from opsassure.core import audit
from opsassure.core.errors import ServiceError
from opsassure.core.models.audit import AuditEvent


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "Conflict."


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [msg for value in detail.values() for msg in _flatten(value)]
    if isinstance(detail, list):
        return [msg for item in detail for msg in _flatten(item)]
    return [str(detail)]


def _fields(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {str(key): value for key, value in detail.items()}
    return {}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ServiceError):  # a service's refusal: its own status, code and fields
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {
                "error": {
                    "code": "request_too_large",
                    "message": _("The request body is too large."),
                    "fields": {},
                }
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, IntegrityError):
        exc = Conflict(_("The change conflicts with existing data."))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.PermissionDenied):
        request = context.get("request")
        view = context.get("view")
        audit.record(
            AuditEvent.Action.PERMISSION_DENIED,
            object_type="api",
            object_repr=f"{getattr(request, 'method', '')} {getattr(request, 'path', '')}"[:200],
            customer_id=getattr(getattr(request, "user", None), "customer_id", None),
            changes={"view": type(view).__name__ if view else ""},
        )
    detail = response.data
    if isinstance(exc, exceptions.ValidationError):
        code = "validation_error"
        fields = _fields(detail)
        message = _("Invalid input.")
        if not fields:
            fields = {"non_field_errors": _flatten(detail)}
    else:
        code = getattr(exc, "default_code", "error")
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        if isinstance(codes, str):
            code = codes
        fields = {}
        message = " ".join(_flatten(detail))
    response.data = {"error": {"code": code, "message": message, "fields": fields}}
    return response
