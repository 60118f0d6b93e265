"""Metrics API: the agent push (plain view, agent token) and the viewsets of agent tokens,
agents, metric series (with their chart data) and threshold rules."""

from __future__ import annotations

import json
import math
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from opsassure.core.api.base import ScopedModelViewSet, ScopedReadOnlyViewSet
from opsassure.core.api.router import router
from opsassure.core.auth import bearer_token
from opsassure.core.errors import ServiceError
from opsassure.core.middleware import error_response
from opsassure.monitoring import metrics, queries, rules, tokens
from opsassure.monitoring.api import agent_serializers as s
from opsassure.monitoring.models import Agent, AgentToken, MetricSeries, ThresholdRule

MAX_PUSH_BYTES = 4 * 1024 * 1024


class AgentPushThrottle(SimpleRateThrottle):
    """DRF's rate throttle (counts in the cache: files in embedded mode, Redis when
    configured), keyed by the agent token instead of a user; the rate is read from settings
    on each use, so tests and deployments can change it."""

    scope = "agent_push"

    def __init__(self, token: AgentToken) -> None:
        self.key_id = token.key_id
        super().__init__()

    def get_rate(self) -> str:
        return str(settings.MONITORING_AGENT_PUSH_RATE)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.key_id}


@csrf_exempt
@require_POST
def agent_push(request: HttpRequest) -> HttpResponse:
    """``POST /api/v1/monitoring/agent/push/`` with ``Authorization: Bearer opsa_…``.

    401 for a missing, wrong or revoked token (checked before the body is read), 429 over
    ``MONITORING_AGENT_PUSH_RATE`` per token, 413 over 4 MiB, 400 for a malformed push;
    nothing is stored in any of these cases. 200 with ``{"agent", "ci", "accepted",
    "duplicates", "refused": [{"index", "reason"}]}`` once the samples are committed."""
    token = tokens.authenticate_agent(bearer_token(request))
    if token is None:
        return error_response(401, "unauthorized", _("Unknown or revoked agent token."))
    throttle = AgentPushThrottle(token)
    # Our get_cache_key reads neither the request nor the view: a plain Django request will do.
    if not throttle.allow_request(request, None):  # type: ignore[arg-type]
        seconds = max(1, math.ceil(throttle.wait() or 1))
        response = error_response(
            429,
            "throttled",
            _("Too many pushes with this agent token; retry in %(seconds)d s.")
            % {"seconds": seconds},
        )
        response["Retry-After"] = str(seconds)
        return response
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = request.read(MAX_PUSH_BYTES + 1) if length <= MAX_PUSH_BYTES else b""
    if length > MAX_PUSH_BYTES or len(body) > MAX_PUSH_BYTES:
        return error_response(
            413,
            "request_too_large",
            _("The request body is larger than the limit of %(limit)d bytes.")
            % {"limit": MAX_PUSH_BYTES},
        )
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return error_response(
            400, "parse_error", _("Malformed JSON: %(error)s") % {"error": str(error)}
        )
    try:
        result = metrics.accept_push(token, payload)
    except ServiceError as error:
        return error_response(error.status_code, error.code, error.message, error.fields)
    return JsonResponse(result.as_dict())


class ChangePermission(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        model = view.queryset.model
        perm = f"{model._meta.app_label}.change_{model._meta.model_name}"
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(perm))


class AgentTokenViewSet(ScopedModelViewSet):
    """Agent tokens: ``create`` answers with the full token once; ``revoke`` ends it (the
    agents using it get 401 from then on)."""

    queryset = AgentToken.objects.select_related("customer").order_by("customer_id", "name", "id")
    serializer_class = s.AgentTokenSerializer
    filterset_fields = ["customer"]
    search_fields = ["name", "key_id"]
    http_method_names = ["get", "post", "head", "options"]

    def perform_create(self, serializer: Any) -> None:
        row, token = tokens.create_agent_token(
            customer=serializer.validated_data["customer"],
            name=serializer.validated_data["name"],
        )
        row.issued_token = token  # type: ignore[attr-defined]
        serializer.instance = row

    @extend_schema(request=None, responses={200: s.AgentTokenSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ChangePermission])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        row = self.get_object()
        tokens.revoke(row)
        row.refresh_from_db()
        return Response(self.get_serializer(row).data)


class AgentViewSet(ScopedReadOnlyViewSet):
    """Hosts that push metrics, matched to their CI by host name / address."""

    queryset = Agent.objects.select_related("customer").order_by("customer_id", "hostname", "id")
    serializer_class = s.AgentSerializer
    filterset_fields = ["customer", "ci", "token"]
    search_fields = ["hostname"]


class MetricSeriesViewSet(ScopedReadOnlyViewSet):
    """One metric of one host or check; ``samples`` is its chart (24h raw, 7d/30d hourly)."""

    queryset = MetricSeries.objects.order_by("customer_id", "name", "dimension", "id")
    serializer_class = s.MetricSeriesSerializer
    filterset_fields = ["customer", "ci", "agent", "monitor", "name"]

    @extend_schema(
        parameters=[OpenApiParameter("window", str, enum=list(queries.WINDOWS))],
        responses={200: dict[str, Any]},
    )
    @action(detail=True, methods=["get"])
    def samples(self, request: Request, pk: str | None = None) -> Response:
        series = self.get_object()
        window = request.query_params.get("window", "24h")
        if window not in queries.WINDOWS:
            message = _("window: use one of %(w)s.") % {"w": ", ".join(queries.WINDOWS)}
            return Response(
                {"error": {"code": "validation_error", "message": message, "fields": {}}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response({"series": series.pk, **queries.metric_series(series, window)})


class ThresholdRuleViewSet(ScopedModelViewSet):
    """Threshold rules; writes go through ``rules`` (validation with reasons, alerts of
    series a change no longer covers are resolved, delete resolves what fires)."""

    queryset = ThresholdRule.objects.order_by("name", "id")
    serializer_class = s.ThresholdRuleSerializer
    filterset_fields = ["customer", "enabled", "metric", "ci", "severity"]
    search_fields = ["name", "metric"]

    def get_queryset(self) -> QuerySet[Any]:
        return (
            super()
            .get_queryset()
            .annotate(
                firing=Count("states", filter=Q(states__state="firing")),
                pending=Count("states", filter=Q(states__state="pending")),
            )
        )

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = rules.create_rule(**serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = rules.update_rule(serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: ThresholdRule) -> None:
        rules.delete_rule(instance)


router.register("monitoring/agent-tokens", AgentTokenViewSet, basename="monitoring-agenttoken")
router.register("monitoring/agents", AgentViewSet, basename="monitoring-agent")
router.register("monitoring/metric-series", MetricSeriesViewSet, basename="monitoring-series")
router.register(
    "monitoring/threshold-rules", ThresholdRuleViewSet, basename="monitoring-thresholdrule"
)

# The push is a plain view (the agent token is the credential, no session, no CSRF);
# tests/monitoring/test_agent_push.py covers it.
urlpatterns: list[URLPattern] = [
    path("monitoring/agent/push/", agent_push, name="monitoring-agent-push"),
]
