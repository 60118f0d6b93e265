"""API of the service catalogue and SLA policies: /api/v1/catalog/services/, …/sla-policies/.

A policy is written as a whole: its fields, the 3×3 priority matrix, the targets per
priority and the OLA targets per team, validated together by ``catalog.sla_policies`` (every
problem in one 400, nothing written).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from opsassure.catalog import builtin, catalogue, policies, queries, sla_policies
from opsassure.catalog.api.views import parse_instant
from opsassure.catalog.business_time import NoBusinessTimeError
from opsassure.catalog.filtersets import ServiceFilterSet, SlaPolicyFilterSet
from opsassure.catalog.models import Service, SlaMetric, SlaPolicy
from opsassure.catalog.presentation import format_duration
from opsassure.core.api.base import ScopedModelSerializer, ScopedModelViewSet, ScopedSerializerMixin
from opsassure.core.api.errors import Conflict
from opsassure.core.auth import request_user
from opsassure.core.models import Team
from opsassure.core.tenancy import is_provider_staff, scoped

# --- services ------------------------------------------------------------------------------


class ServiceSerializer(ScopedModelSerializer):
    delivery_mode_display = serializers.CharField(
        source="get_delivery_mode_display", read_only=True
    )
    depth = serializers.SerializerMethodField(help_text="0 for a top-level service.")
    path = serializers.SerializerMethodField(help_text="Names from the top level down.")
    children = serializers.SerializerMethodField(help_text="Ids of the direct sub-services.")
    effective_sla_policy = serializers.SerializerMethodField(
        help_text="The policy tickets of this service are measured against (its own, else the "
        "customer's default; null: none)."
    )

    class Meta:
        model = Service
        fields = [
            "id",
            "customer",
            "parent",
            "depth",
            "path",
            "children",
            "code",
            "name",
            "description",
            "goal",
            "scope",
            "frequency",
            "service_hours",
            "delivery_mode",
            "delivery_mode_display",
            "deliverables",
            "owner_team",
            "sla_policy",
            "effective_sla_policy",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list[Any] = []  # code uniqueness: catalogue.check_service

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["customer"].read_only = True  # a service never moves to another customer
        return fields

    def _tree(self) -> dict[int, tuple[int, tuple[str, ...], list[int]]]:
        tree: dict[int, tuple[int, tuple[str, ...], list[int]]] = self.context.get("tree", {})
        return tree

    def _node(self, obj: Service) -> tuple[int, tuple[str, ...], list[int]]:
        node = self._tree().get(obj.pk)
        if node is None:  # a single object outside a list: load its customer's tree
            self.context["tree"] = tree_index([obj.customer_id])
            node = self._tree().get(obj.pk, (0, (obj.name,), []))
        return node

    def get_depth(self, obj: Service) -> int:
        return self._node(obj)[0]

    def get_path(self, obj: Service) -> list[str]:
        return list(self._node(obj)[1])

    def get_children(self, obj: Service) -> list[int]:
        return self._node(obj)[2]

    @extend_schema_field(OpenApiTypes.INT)
    def get_effective_sla_policy(self, obj: Service) -> int | None:
        policy = obj.sla_policy if obj.sla_policy_id is not None else None
        if policy is not None and policy.is_active:
            return policy.pk
        defaults: dict[int, int] = self.context.setdefault("default_policies", {})
        if obj.customer_id not in defaults:
            defaults.update(
                SlaPolicy.objects.filter(is_default=True, is_active=True).values_list(
                    "customer_id", "pk"
                )
            )
        return defaults.get(obj.customer_id)


def tree_index(customer_ids: list[int]) -> dict[int, tuple[int, tuple[str, ...], list[int]]]:
    """id → (depth, path of names, child ids) for every service of these customers (1 query)."""
    rows = list(
        Service.objects.filter(customer_id__in=customer_ids).only(
            "id", "customer_id", "parent_id", "code", "name"
        )
    )
    children: dict[int, list[int]] = {}
    for row in rows:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row.pk)
    return {
        node.service.pk: (node.depth, node.path, sorted(children.get(node.service.pk, [])))
        for node in catalogue.tree_rows(rows)
    }


class ServiceViewSet(ScopedModelViewSet):
    """The customer's service catalogue (服务目录) as a tree: each entry names its parent.

    Rules: the parent belongs to the same customer and is not the service itself or one of
    its sub-services; service hours are a provider-wide or the customer's own calendar; the
    SLA policy is the customer's. A service with sub-services or tickets cannot be deleted
    (409): deactivate it.
    """

    queryset = Service.objects.select_related("sla_policy").order_by("customer_id", "code", "id")
    serializer_class = ServiceSerializer
    filterset_class = ServiceFilterSet
    ordering_fields = ["code", "name", "created_at"]
    search_fields: list[str] = []  # the filterset's "q"

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        context = self.get_serializer_context()
        context["tree"] = tree_index(sorted({row.customer_id for row in rows}))
        data = ServiceSerializer(rows, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        customer = data.pop("customer", None)
        if customer is None:
            raise exceptions.ValidationError({"customer": [_("This field is required.")]})
        serializer.instance = catalogue.create_service(customer=customer, **data)

    def perform_update(self, serializer: Any) -> None:
        data = {k: v for k, v in serializer.validated_data.items() if k != "customer"}
        serializer.instance = catalogue.update_service(serializer.instance, **data)

    def perform_destroy(self, instance: Service) -> None:
        try:
            catalogue.delete_service(instance)
        except catalogue.ServiceInUseError as error:
            raise Conflict(str(error)) from error


# --- SLA policies --------------------------------------------------------------------------


class MatrixCellSerializer(serializers.Serializer[Any]):
    impact = serializers.IntegerField(help_text="1 high … 3 low")
    urgency = serializers.IntegerField(help_text="1 high … 3 low")
    priority = serializers.IntegerField(help_text="1 (P1) … 4 (P4)")


class TargetSerializer(serializers.Serializer[Any]):
    priority = serializers.IntegerField()
    response_minutes = serializers.IntegerField(help_text="Business minutes")
    arrival_minutes = serializers.IntegerField(
        required=False, allow_null=True, help_text="Business minutes; null: no on-site target"
    )
    resolution_minutes = serializers.IntegerField(help_text="Business minutes")


class OlaTargetSerializer(ScopedSerializerMixin, serializers.Serializer[Any]):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    priority = serializers.IntegerField()
    response_minutes = serializers.IntegerField(required=False, allow_null=True)
    resolution_minutes = serializers.IntegerField(required=False, allow_null=True)


class SlaPolicySerializer(ScopedModelSerializer):
    matrix = MatrixCellSerializer(
        many=True,
        required=False,
        help_text="All nine impact × urgency cells (default matrix when omitted on create).",
    )
    targets = TargetSerializer(
        many=True, required=False, help_text="One row per priority used by the matrix."
    )
    ola_targets = OlaTargetSerializer(
        many=True, required=False, help_text="Internal targets per support team (staff only)."
    )
    calendar_warning = serializers.SerializerMethodField(
        help_text="Set when the calendar lacks holiday data for last, this or next year."
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "customer",
            "code",
            "name",
            "description",
            "calendar",
            "calendar_warning",
            "is_default",
            "warn_percent_first",
            "warn_percent_second",
            "is_active",
            "matrix",
            "targets",
            "ola_targets",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list[Any] = []  # all rules: sla_policies.check_policy

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["customer"].read_only = True
        return fields

    def get_calendar_warning(self, obj: SlaPolicy) -> str:
        years: list[int] = self.context.get("coverage_years") or builtin.default_years()
        missing = [year for year in years if not queries.policy_calendar_covered(obj, year)]
        if not missing:
            return ""
        return _(
            "The calendar has no public holiday data for %(years)s: plain weekdays are used "
            "for those years."
        ) % {"years": ", ".join(map(str, missing))}

    def to_representation(self, instance: SlaPolicy) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not is_provider_staff(request.user):
            data.pop("ola_targets", None)  # operational targets are the provider's business
        return data

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name, make in (
            ("matrix", sla_policies.MatrixEntry),
            ("targets", sla_policies.TargetEntry),
            ("ola_targets", sla_policies.OlaEntry),
        ):
            if name in attrs:
                attrs[name] = [make(**row) for row in attrs[name]]
        return attrs


class PreviewDueSerializer(serializers.Serializer[Any]):
    metric = serializers.CharField()
    metric_display = serializers.CharField()
    minutes = serializers.IntegerField()
    duration = serializers.CharField(help_text="The target as hours and minutes.")
    due_at = serializers.DateTimeField()
    due_at_local = serializers.CharField(help_text="In the calendar's zone.")
    first_warning_at = serializers.DateTimeField()
    second_warning_at = serializers.DateTimeField()


class PreviewSerializer(serializers.Serializer[Any]):
    policy = serializers.IntegerField()
    calendar = serializers.IntegerField()
    time_zone = serializers.CharField()
    priority = serializers.IntegerField()
    start = serializers.DateTimeField()
    targets = PreviewDueSerializer(many=True)
    ola_targets = PreviewDueSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())


def _utc(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _int_param(request: Request, name: str, low: int, high: int) -> int | None:
    raw = request.query_params.get(name) or ""
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise serializers.ValidationError(
            {name: [_("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high}]}
        )
    return value


class SlaPolicyViewSet(ScopedModelViewSet):
    """SLA policies with their priority matrix, targets and OLA targets, written as a whole.

    Omitting ``matrix``/``targets`` on create starts from the defaults; giving them on update
    replaces the stored rows. Making a policy the default takes the flag from the customer's
    previous default. The default policy, and policies in use, cannot be deleted (409).
    """

    queryset = (
        SlaPolicy.objects.select_related("calendar")
        .prefetch_related("matrix", "targets", "ola_targets")
        .order_by("customer_id", "code", "id")
    )
    serializer_class = SlaPolicySerializer
    filterset_class = SlaPolicyFilterSet
    ordering_fields = ["code", "name", "created_at"]
    search_fields: list[str] = []

    def get_queryset(self) -> QuerySet[Any]:
        return queries.with_policy_calendar_coverage(
            super().get_queryset(), builtin.default_years()
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "coverage_years": builtin.default_years()}

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        customer = data.pop("customer", None)
        if customer is None:
            raise exceptions.ValidationError({"customer": [_("This field is required.")]})
        serializer.instance = sla_policies.create_policy(customer=customer, **data)

    def perform_update(self, serializer: Any) -> None:
        data = {k: v for k, v in serializer.validated_data.items() if k != "customer"}
        serializer.instance = sla_policies.update_policy(serializer.instance, **data)

    def perform_destroy(self, instance: SlaPolicy) -> None:
        try:
            sla_policies.delete_policy(instance)
        except sla_policies.PolicyInUseError as error:
            raise Conflict(str(error)) from error

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATETIME, required=True),
            OpenApiParameter("priority", int, description="1–4 (or give impact and urgency)"),
            OpenApiParameter("impact", int, description="1–3, with urgency"),
            OpenApiParameter("urgency", int, description="1–3, with impact"),
            OpenApiParameter("team", int, description="Also compute this team's OLA targets"),
        ],
        responses=PreviewSerializer,
    )
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        """Due times (and warning times) of a clock started at ``start``, in the policy's
        calendar — what a ticket of this priority would get."""
        policy = self.get_object()
        problems: dict[str, list[str]] = {}
        start = None
        try:
            start = parse_instant(request.query_params.get("start"), "start")
        except serializers.ValidationError as error:
            problems.update(error.detail)  # type: ignore[arg-type]
        priority = impact = urgency = team_id = None
        for name, low, high in (("priority", 1, 4), ("impact", 1, 3), ("urgency", 1, 3)):
            try:
                value = _int_param(request, name, low, high)
            except serializers.ValidationError as error:
                problems.update(error.detail)  # type: ignore[arg-type]
                continue
            if name == "priority":
                priority = value
            elif name == "impact":
                impact = value
            else:
                urgency = value
        try:
            team_id = _int_param(request, "team", 1, 2**63 - 1)
        except serializers.ValidationError as error:
            problems.update(error.detail)  # type: ignore[arg-type]
        if priority is None and not problems:
            if impact is None or urgency is None:
                problems["priority"] = [_("Give a priority, or an impact and an urgency.")]
            else:
                priority = policies.priority_for(policy, impact, urgency)
        team = None
        if team_id is not None and is_provider_staff(request.user):
            team = scoped(Team, request_user(request)).filter(pk=team_id).first()
            if team is None:
                problems["team"] = [_("No such team.")]
        if problems:
            raise serializers.ValidationError(problems)
        assert start is not None
        assert priority is not None
        try:
            result = sla_policies.preview(policy, start=start, priority=priority, team=team)
        except NoBusinessTimeError as error:
            raise Conflict(_("The policy's calendar has no working time.")) from error
        zone = queries.business_calendar(policy.calendar).zone
        labels = dict(SlaMetric.choices)

        def rows(items: list[sla_policies.DueTime]) -> list[dict[str, Any]]:
            return [
                {
                    "metric": item.metric,
                    "metric_display": str(labels[item.metric]),
                    "minutes": item.minutes,
                    "duration": format_duration(item.minutes),
                    "due_at": _utc(item.due_at),
                    "due_at_local": item.due_at.astimezone(zone).isoformat(),
                    "first_warning_at": _utc(item.first_warning_at),
                    "second_warning_at": _utc(item.second_warning_at),
                }
                for item in items
            ]

        return Response(
            {
                "policy": policy.pk,
                "calendar": policy.calendar_id,
                "time_zone": result.time_zone,
                "priority": priority,
                "start": _utc(start),
                "targets": rows(result.due),
                "ola_targets": rows(result.ola),
                "warnings": result.warnings,
            }
        )
