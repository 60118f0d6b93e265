"""The ingest endpoints: ``POST /api/v1/alerting/ingest/<token>/`` (every kind) and the
PagerDuty-compatible ``POST /api/v1/alerting/events/v2/enqueue`` (token in ``routing_key``).

Plain Django views rather than DRF: no session, no CSRF, no content negotiation — a fixed,
small amount of work before the batch is committed. The answer is 2xx only after the commit.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from opsassure.alerting import ingest
from opsassure.alerting.models import Integration
from opsassure.alerting.payloads import PARSERS, PayloadError, parse
from opsassure.core.auth import bearer_token
from opsassure.core.middleware import error_response

_BY_TOKEN = f"SELECT * FROM {Integration._meta.db_table} WHERE token = %s"  # noqa: S608


def integration_by_token(token: str) -> Integration | None:
    """The integration with this URL token, or None.

    A raw query: compiling the equivalent ``filter(token=…).first()`` took a sixth of the
    endpoint's CPU (measured with py-spy under bench/ingest.py); ``raw`` still applies the
    fields' converters (JSON fields and the like)."""
    if not token or len(token) > 64:
        return None
    return next(iter(Integration.objects.raw(_BY_TOKEN, [token])), None)


def max_body_bytes() -> int:
    return int(getattr(settings, "OPSASSURE_ALERT_MAX_BODY_BYTES", 4 * 1024 * 1024))


def _not_found() -> JsonResponse:
    # The same answer for an unknown token, a revoked or disabled integration and a wrong
    # bearer token: nothing tells which part was wrong.
    return error_response(404, "not_found", _("Not found."))


def _read_json(request: HttpRequest) -> tuple[Any, JsonResponse | None]:
    limit = max_body_bytes()
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        return None, error_response(
            413,
            "request_too_large",
            _("The request body is larger than the limit of %(limit)d bytes.") % {"limit": limit},
        )
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return None, error_response(
            400,
            "unsupported_content_type",
            _("Send the body as application/json (got %(type)s).")
            % {"type": content_type or _("no content type")},
        )
    body = request.read(limit + 1)
    if len(body) > limit:
        return None, error_response(
            413,
            "request_too_large",
            _("The request body is larger than the limit of %(limit)d bytes.") % {"limit": limit},
        )
    try:
        return orjson.loads(body), None  # the standard library's decoder is ~3× slower
    except orjson.JSONDecodeError as error:  # also for bytes that are not UTF-8
        return None, error_response(
            400, "parse_error", _("Malformed JSON: %(error)s") % {"error": str(error)}
        )


def _handle(request: HttpRequest, integration: Integration | None, payload: Any) -> HttpResponse:
    if integration is None or not integration.is_active:
        return _not_found()
    if not integration.bearer_matches(bearer_token(request)):
        return _not_found()
    now = timezone.now()
    try:
        parsed = parse(integration.kind, payload, now)
    except PayloadError as error:
        fields = {error.field: [error.message]} if error.field else {}
        message = f"{error.field}: {error.message}" if error.field else error.message
        return error_response(400, "validation_error", message, fields)
    retry_after = ingest.rate_limited(integration, now)
    if retry_after:
        response = error_response(
            429,
            "throttled",
            _("Rate limit of %(limit)d requests per minute reached; retry later.")
            % {"limit": integration.rate_limit_per_minute},
        )
        response["Retry-After"] = str(retry_after)
        return response
    batch = ingest.accept(integration, parsed, now=now)
    reply = parsed.reply or {"status": "success", "batch": batch.pk, "alerts": batch.alert_count}
    return JsonResponse(reply, status=parsed.reply_status)


@csrf_exempt
@require_POST
def receive(request: HttpRequest, token: str) -> HttpResponse:
    """Any integration kind; the kind is the integration's."""
    integration = integration_by_token(token)
    if integration is None or integration.kind not in PARSERS:
        return _not_found()
    payload, problem = _read_json(request)
    if problem is not None:
        return problem
    return _handle(request, integration, payload)


@csrf_exempt
@require_POST
def events_v2_enqueue(request: HttpRequest) -> HttpResponse:
    """PagerDuty Events API v2 path: the integration's URL token is the ``routing_key``."""
    payload, problem = _read_json(request)
    if problem is not None:
        return problem
    token = payload.get("routing_key") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not token or len(token) > 64:
        return error_response(
            400, "validation_error", "routing_key: is required", {"routing_key": ["is required"]}
        )
    integration = integration_by_token(token)
    if integration is not None and integration.kind != "events_v2":
        integration = None
    return _handle(request, integration, payload)
