"""Request plumbing: request ids, body size limit, user language and time zone, and a 400 for
values out of range."""

from __future__ import annotations

import re
import uuid
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import get_resolver
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from opsassure.core.audit import AuditContext, audit_context
from opsassure.core.errors import UserFacingBadRequest
from opsassure.core.request_context import request_id_var

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Accept a sane X-Request-ID from the proxy or make one; echo it; tag logs and audit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            with audit_context(AuditContext(request=request, request_id=request_id)):
                response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


def error_response(
    status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> JsonResponse:
    """The one JSON error shape used by every API answer that is not a success."""
    return JsonResponse(
        {"error": {"code": code, "message": message, "fields": fields or {}}}, status=status
    )


class BodySizeLimitMiddleware:
    """Refuse bodies over ``MAX_REQUEST_BYTES`` with 413 before anything reads them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, "bad_request", _("Invalid Content-Length header."))
        if length > settings.MAX_REQUEST_BYTES:
            return error_response(
                413,
                "request_too_large",
                _("The request body is larger than the limit of %(limit)d bytes.")
                % {"limit": settings.MAX_REQUEST_BYTES},
            )
        return self.get_response(request)


class UserPreferencesMiddleware:
    """Activate the signed-in user's language and time zone (default Asia/Shanghai)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        zone_name = settings.TIME_ZONE
        if user is not None and user.is_authenticated:
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
            zone_name = user.time_zone or zone_name
        if request.path.startswith("/api/"):
            zone_name = "UTC"  # machines get UTC (ISO 8601, "Z"); people get their own zone
        try:
            timezone.activate(zoneinfo.ZoneInfo(zone_name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo(settings.TIME_ZONE))
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        return response


class OutOfRangeMiddleware:
    """A date or number beyond what Python or the database can hold is the sender's error.

    Dates such as 0001-01-01 or 9999-12-31 pass Django's form and query-string parsing, and then
    overflow when shifted to UTC or by a week (``OverflowError``); the request gets a 400 saying
    so instead of a 500. Views write through services in transactions, which the exception has
    already rolled back when it reaches here. Forms that can check a range say so themselves.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OverflowError):
            return None
        refusal = UserFacingBadRequest(_("A date or number is out of the supported range."))
        # The project's 400 page (``handler400``), as Django would call it for a BadRequest.
        handler: Any = get_resolver(getattr(request, "urlconf", None)).resolve_error_handler(400)
        response: HttpResponse = handler(request, refusal)
        return response
