"""The probe protocol over HTTP (plain Django views: no session, no CSRF, a fixed small amount
of work before the answer; the answer to a results batch comes after its commit).

- ``GET  /api/v1/monitoring/probe/assignments/`` → the checks to run, with an ETag (304 when
  the probe's If-None-Match still matches);
- ``POST /api/v1/monitoring/probe/results/`` → ``{"accepted", "duplicates", "refused"}``;
- ``POST /api/v1/monitoring/probe/heartbeat/``.

Auth: ``Authorization: Bearer opsp_…``. A missing, wrong or revoked token, or a disabled probe,
gets 401 with the project's JSON error, and nothing is stored.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from opsassure.core.auth import bearer_token
from opsassure.core.middleware import error_response
from opsassure.monitoring import probing, tokens
from opsassure.monitoring.models import Probe

HEARTBEAT_MAX_BYTES = 64 * 1024


def results_max_bytes() -> int:
    """Room for a full batch (about 1 KB a result, more with node_exporter metrics)."""
    default = max(8 * 1024 * 1024, settings.MONITORING_MAX_RESULTS_PER_BATCH * 2048)
    return int(getattr(settings, "MONITORING_MAX_BATCH_BYTES", default))


def _unauthorized() -> JsonResponse:
    response = error_response(401, "unauthorized", _("A valid probe token is required."))
    response["WWW-Authenticate"] = 'Bearer realm="opsassure-probe"'
    return response


def _probe(request: HttpRequest) -> Probe | None:
    token = bearer_token(request)
    return tokens.authenticate_probe(token) if token else None


def _too_large(limit: int) -> JsonResponse:
    return error_response(
        413,
        "request_too_large",
        _("The request body is larger than the limit of %(limit)d bytes.") % {"limit": limit},
    )


def _read_json(request: HttpRequest, limit: int) -> tuple[Any, JsonResponse | None]:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        return None, _too_large(limit)
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
        return None, _too_large(limit)
    try:
        return json.loads(body), None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, error_response(
            400, "parse_error", _("Malformed JSON: %(error)s") % {"error": str(error)}
        )


@require_GET
def assignments(request: HttpRequest) -> HttpResponse:
    probe = _probe(request)
    if probe is None:
        return _unauthorized()
    data, etag = probing.assignments_payload(probe)
    candidates = {tag.strip() for tag in request.META.get("HTTP_IF_NONE_MATCH", "").split(",")}
    response = HttpResponse(status=304) if etag in candidates else JsonResponse(data)
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response


@csrf_exempt
@require_POST
def results(request: HttpRequest) -> HttpResponse:
    probe = _probe(request)
    if probe is None:
        return _unauthorized()
    payload, problem = _read_json(request, results_max_bytes())
    if problem is not None:
        return problem
    try:
        batch_id, parsed = probing.parse_results(payload)
    except probing.ProtocolError as error:
        code = "request_too_large" if error.status == 413 else "validation_error"
        return error_response(error.status, code, str(error), {error.field: [error.message]})
    answer = probing.accept_results(probe, batch_id, parsed)
    return JsonResponse(answer.as_json())


@csrf_exempt
@require_POST
def heartbeat(request: HttpRequest) -> HttpResponse:
    probe = _probe(request)
    if probe is None:
        return _unauthorized()
    payload, problem = _read_json(request, HEARTBEAT_MAX_BYTES)
    if problem is not None:
        return problem
    if not isinstance(payload, dict):
        message = _("must be a JSON object")
        return error_response(400, "validation_error", f"body: {message}", {"body": [message]})
    probing.record_heartbeat(probe, payload)
    return JsonResponse({"status": "ok"})


urlpatterns: list[URLPattern] = [
    path("monitoring/probe/assignments/", assignments, name="monitoring-probe-assignments"),
    path("monitoring/probe/results/", results, name="monitoring-probe-results"),
    path("monitoring/probe/heartbeat/", heartbeat, name="monitoring-probe-heartbeat"),
]
