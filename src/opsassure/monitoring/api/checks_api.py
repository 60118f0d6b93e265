"""Monitoring API: checks (CRUD through the services, bulk create from the CMDB, charts and
availability), their raw results, and probes (the token is in the create/rotate answer only).

A refused check answers 400 ``{"error": {"code": "invalid_check", "message", "fields"}}``
with the reason per field (``settings.<option>`` for the kind's options); nothing is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.urls import URLPattern
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from opsassure.cmdb.models import CIType, ConfigurationItem
from opsassure.core.api.base import (
    ScopedModelSerializer,
    ScopedModelViewSet,
    ScopedReadOnlyViewSet,
    ScopedSerializerMixin,
)
from opsassure.core.api.pagination import StableCursorPagination
from opsassure.core.api.router import router
from opsassure.core.auth import request_user
from opsassure.core.models import Customer
from opsassure.monitoring import charts, services
from opsassure.monitoring.filtersets import CheckResultFilterSet, MonitorFilterSet
from opsassure.monitoring.models import CheckKind, CheckResult, Monitor, Probe


class ChangePermission(permissions.BasePermission):
    """Actions that change a row need the model's change permission (plus the scope)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        model = view.queryset.model
        perm = f"{model._meta.app_label}.change_{model._meta.model_name}"
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(perm))


class ViewPermission(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        model = view.queryset.model
        perm = f"{model._meta.app_label}.view_{model._meta.model_name}"
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(perm))


def _own_customer(attrs: dict[str, Any], user: Any, instance: Any) -> None:
    """Customer users write their own customer's rows; the customer of a row never changes."""
    customer = attrs.get("customer")
    if instance is not None:
        if "customer" in attrs and customer != instance.customer:
            raise serializers.ValidationError({"customer": [_("The customer cannot change.")]})
        return
    if user.customer_id is not None:
        if customer is None:
            attrs["customer"] = user.customer
        elif customer.pk != user.customer_id:
            raise serializers.ValidationError({"customer": [_("Not your customer.")]})


KIND_HELP = "One of: " + ", ".join(CheckKind.values) + " (checked by the service, 400 otherwise)."
STATUS_HELP = "0 up, 1 degraded, 2 down."


class MonitorSerializer(ScopedModelSerializer):
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), required=False, allow_null=True
    )
    # Plain fields in the schema (the service validates kind with its reason); enum names
    # like "kind"/"status" are taken by other apps' components.
    kind = serializers.CharField(max_length=16, help_text=KIND_HELP)
    last_status = serializers.IntegerField(read_only=True, allow_null=True, help_text=STATUS_HELP)

    class Meta:
        model = Monitor
        fields = [
            "id",
            "customer",
            "name",
            "kind",
            "target",
            "settings",
            "interval_seconds",
            "timeout_seconds",
            "retries",
            "failure_threshold",
            "success_threshold",
            "severity",
            "labels",
            "enabled",
            "ci",
            "calendar",
            "probes",
            "config_version",
            "state",
            "state_since",
            "last_result_at",
            "last_status",
            "last_response_ms",
            "last_message",
            "cert_expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "config_version",
            "state",
            "state_since",
            "last_result_at",
            "last_status",
            "last_response_ms",
            "last_message",
            "cert_expires_at",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            # The service checks these with the reasons; the model's own bounds would only
            # say "ensure this value is greater than…".
            "interval_seconds": {"min_value": None, "max_value": None},
            "retries": {"min_value": None, "max_value": None},
            "failure_threshold": {"min_value": None, "max_value": None},
            "success_threshold": {"min_value": None, "max_value": None},
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        user = request_user(self.context["request"])
        _own_customer(attrs, user, self.instance)
        if self.instance is None and attrs.get("customer") is None:
            raise serializers.ValidationError({"customer": [_("Choose the customer.")]})
        return attrs


class BulkCreateSerializer(ScopedSerializerMixin, serializers.Serializer[Any]):
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), required=False, allow_null=True
    )
    kind = serializers.CharField(max_length=16, help_text=KIND_HELP)
    cis = serializers.PrimaryKeyRelatedField(
        queryset=ConfigurationItem.objects.all(), many=True, required=False
    )
    ci_type = serializers.SlugRelatedField(
        slug_field="code", queryset=CIType.objects.all(), required=False, allow_null=True
    )
    template = serializers.DictField(required=False, default=dict)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = request_user(self.context["request"])
        _own_customer(attrs, user, None)
        if attrs.get("customer") is None:
            raise serializers.ValidationError({"customer": [_("Choose the customer.")]})
        if not attrs.get("cis") and attrs.get("ci_type") is None:
            raise serializers.ValidationError(
                {"cis": [_("Give the configuration items, or a CI type to take all of.")]}
            )
        return attrs


class CheckResultSerializer(ScopedModelSerializer):
    check = serializers.IntegerField(source="monitor_id", read_only=True)
    status = serializers.IntegerField(read_only=True, help_text=STATUS_HELP)

    class Meta:
        model = CheckResult
        fields = ["id", "check", "probe", "started_at", "status", "response_ms", "message"]
        read_only_fields = fields


class ProbeSerializer(ScopedModelSerializer):
    health = serializers.SerializerMethodField()

    class Meta:
        model = Probe
        fields = [
            "id",
            "customer",
            "name",
            "zone",
            "is_local",
            "enabled",
            "revoked_at",
            "last_heartbeat_at",
            "heartbeat",
            "heartbeat_timeout_seconds",
            "health",
            "created_at",
        ]
        read_only_fields = [
            "is_local",
            "revoked_at",
            "last_heartbeat_at",
            "heartbeat",
            "created_at",
        ]

    def get_health(self, probe: Probe) -> str:
        return str(charts.probe_health(probe)["verdict"])

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        user = request_user(self.context["request"])
        _own_customer(attrs, user, self.instance)
        if (
            self.instance is None
            and attrs.get("customer") is None
            and not (user.is_superuser or user.has_perm("core.access_all_customers"))
        ):
            raise serializers.ValidationError(
                {"customer": [_("Only service managers create provider-wide probes.")]}
            )
        return attrs


_CHECK_FIELDS = set(services.CHECK_FIELDS)


class MonitorViewSet(ScopedModelViewSet):
    """Checks ("monitors"): what to run, how often, from where, and their live state."""

    queryset = (
        Monitor.objects.select_related("customer", "ci").prefetch_related("probes").order_by("id")
    )
    serializer_class = MonitorSerializer
    filterset_class = MonitorFilterSet
    search_fields = ["name", "target"]
    ordering_fields = ["name", "state", "last_response_ms", "last_result_at", "id"]

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        probes = data.pop("probes", None)
        fields = {k: v for k, v in data.items() if k in _CHECK_FIELDS}
        serializer.instance = services.create_check(
            customer=data["customer"], probes=probes, **fields
        )

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        probes = data.pop("probes", None)
        data.pop("customer", None)
        serializer.instance = services.update_check(serializer.instance, probes=probes, **data)

    def perform_destroy(self, instance: Any) -> None:
        services.delete_check(instance)

    @extend_schema(
        request=BulkCreateSerializer,
        responses={
            201: inline_serializer(
                "BulkCreateResult",
                {
                    "created": serializers.ListField(child=serializers.IntegerField()),
                    "skipped": serializers.ListField(child=serializers.DictField()),
                },
            )
        },
    )
    @action(detail=False, methods=["post"], url_path="bulk-create")
    def bulk_create(self, request: Request) -> Response:
        """One check per CI (given ``cis``, or every CI of ``ci_type`` of the customer)."""
        serializer = BulkCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = data["customer"]
        cis = list(data.get("cis") or [])
        if data.get("ci_type") is not None:
            cis += list(
                ConfigurationItem.objects.filter(customer=customer, ci_type=data["ci_type"])
                .exclude(pk__in=[ci.pk for ci in cis])
                .order_by("name", "pk")
            )
        template = dict(data.get("template") or {})
        probe_ids = template.pop("probes", None)
        if probe_ids is not None:
            visible = Probe.objects.visible_to(request.user).filter(pk__in=probe_ids)
            found = list(visible)
            if len(found) != len(set(probe_ids)):
                raise services.MonitoringError(
                    _("Unknown probe."), fields={"template.probes": [_("Unknown probe.")]}
                )
            template["probes"] = found
        with transaction.atomic():
            result = services.bulk_create_checks(
                customer=customer, cis=cis, kind=data["kind"], template=template
            )
        return Response(
            {
                "created": [monitor.pk for monitor in result.created],
                "skipped": [{"ci": ci.pk, "reason": reason} for ci, reason in result.skipped],
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("window", str, enum=list(charts.WINDOWS)),
            OpenApiParameter("start", str, description="ISO 8601; with end, instead of window"),
            OpenApiParameter("end", str),
        ],
        responses={
            200: inline_serializer(
                "Availability",
                {
                    "start": serializers.DateTimeField(),
                    "end": serializers.DateTimeField(),
                    "availability": serializers.FloatField(allow_null=True),
                },
            )
        },
    )
    @action(detail=True, methods=["get"], permission_classes=[ViewPermission])
    def availability(self, request: Request, pk: str | None = None) -> Response:
        """Percentage of runs up (or degraded) inside the check's service hours, from the
        rollups; null when nothing ran in the period."""
        monitor = self.get_object()
        start_text, end_text = request.query_params.get("start"), request.query_params.get("end")
        if start_text or end_text:
            start = parse_datetime(start_text or "")
            end = parse_datetime(end_text or "")
            if start is None or end is None or timezone.is_naive(start) or timezone.is_naive(end):
                raise services.MonitoringError(
                    _("Give start and end as ISO 8601 times with a zone."),
                    fields={"start": [_("Give start and end as ISO 8601 times with a zone.")]},
                )
            if end <= start or end - start > dt.timedelta(days=400):
                raise services.MonitoringError(
                    _("The period must be positive and at most 400 days."),
                    fields={"end": [_("The period must be positive and at most 400 days.")]},
                )
        else:
            window = request.query_params.get("window", charts.DEFAULT_WINDOW)
            if window not in charts.WINDOWS:
                raise services.MonitoringError(
                    _("Unknown window."), fields={"window": [", ".join(charts.WINDOWS)]}
                )
            start, end = charts.window_bounds(window)
        return Response(
            {"start": start, "end": end, "availability": charts.availability(monitor, start, end)}
        )

    @extend_schema(
        parameters=[OpenApiParameter("window", str, enum=list(charts.WINDOWS))],
        responses={200: inline_serializer("CheckChart", {"window": serializers.CharField()})},
    )
    @action(detail=True, methods=["get"], permission_classes=[ViewPermission])
    def chart(self, request: Request, pk: str | None = None) -> Response:
        """The detail page's chart data (times in epoch ms, UTC on the API)."""
        monitor = self.get_object()
        window = request.query_params.get("window", charts.DEFAULT_WINDOW)
        return Response(charts.chart_data(monitor, window).as_dict())


class CheckResultViewSet(ScopedReadOnlyViewSet):
    """Raw check results (kept for the retention period), newest first."""

    queryset = CheckResult.objects.order_by("-id")
    serializer_class = CheckResultSerializer
    filterset_class = CheckResultFilterSet
    pagination_class = StableCursorPagination


class ProbeViewSet(ScopedModelViewSet):
    """Probes. The token is in the answer to create and rotate only (stored hashed)."""

    queryset = Probe.objects.select_related("customer").order_by("name", "id")
    serializer_class = ProbeSerializer
    filterset_fields = ["customer", "enabled", "is_local"]
    search_fields = ["name", "zone"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(
        responses={201: inline_serializer("ProbeCreated", {"token": serializers.CharField()})}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        probe, token = services.create_probe(
            name=data["name"], zone=data.get("zone", ""), customer=data.get("customer")
        )
        body = dict(self.get_serializer(probe).data)
        body["token"] = token
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: inline_serializer("ProbeToken", {"token": serializers.CharField()})},
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangePermission])
    def rotate(self, request: Request, pk: str | None = None) -> Response:
        probe = self.get_object()
        return Response({"token": services.rotate_probe(probe)})

    @extend_schema(request=None, responses={200: ProbeSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ChangePermission])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        probe = self.get_object()
        services.revoke_probe(probe)
        probe.refresh_from_db()
        return Response(self.get_serializer(probe).data)


router.register("monitoring/checks", MonitorViewSet, basename="monitoring-check")
router.register("monitoring/results", CheckResultViewSet, basename="monitoring-result")
router.register("monitoring/probes", ProbeViewSet, basename="monitoring-probe")

urlpatterns: list[URLPattern] = []
