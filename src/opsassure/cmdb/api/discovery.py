"""Discovery API: agents and probes report observations; people decide the discrepancies.

``POST /api/v1/cmdb/discoveries/`` (permission ``cmdb.add_discovery``, typically a probe/agent
token), ``GET`` lists of discoveries and discrepancies, and
``POST /api/v1/cmdb/discrepancies/<id>/accept/`` / ``…/reject/``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from opsassure.cmdb.discovery import (
    MAX_PAYLOAD_BYTES,
    MAX_SOURCE_LENGTH,
    AlreadyDecidedError,
    PayloadTooLargeError,
    accept_discrepancy,
    record_discovery,
    reject_discrepancy,
)
from opsassure.cmdb.models import Discovery, Discrepancy
from opsassure.core.api.base import (
    ScopedModelSerializer,
    ScopedReadOnlyViewSet,
    ScopedSerializerMixin,
    ScopedViewSetMixin,
)
from opsassure.core.api.errors import Conflict
from opsassure.core.auth import request_user
from opsassure.core.models import Customer


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = gettext_lazy("The request body is too large.")


# --- Filters -----------------------------------------------------------------------------------


class DiscoveryFilterSet(django_filters.FilterSet):
    matched = django_filters.BooleanFilter(method="filter_matched", label=gettext_lazy("Matched"))
    ci = django_filters.NumberFilter(field_name="ci_id", label=gettext_lazy("CI"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=gettext_lazy("Customer"))
    source = django_filters.CharFilter(label=gettext_lazy("Source"))

    class Meta:
        model = Discovery
        fields = ["matched", "ci", "customer", "source"]

    def filter_matched(
        self, queryset: QuerySet[Discovery], name: str, value: bool | None
    ) -> QuerySet[Discovery]:
        if value is None:
            return queryset
        return queryset.filter(ci__isnull=not value)


class DiscrepancyFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=Discrepancy.Status.choices, label=gettext_lazy("Status")
    )
    ci = django_filters.NumberFilter(field_name="ci_id", label=gettext_lazy("CI"))
    customer = django_filters.NumberFilter(
        field_name="ci__customer_id", label=gettext_lazy("Customer")
    )
    field = django_filters.CharFilter(label=gettext_lazy("Field"))

    class Meta:
        model = Discrepancy
        fields = ["status", "ci", "customer", "field"]


# --- Serializers -------------------------------------------------------------------------------


class DiscoveryInputSerializer(ScopedSerializerMixin, serializers.Serializer[Any]):
    source = serializers.CharField(max_length=MAX_SOURCE_LENGTH)  # type: ignore[assignment]
    facts = serializers.JSONField(
        help_text="hostname, serial_number, vendor, model, os, cpu_count, memory_gb, "
        "ip_addresses (list), primary_ip, and attr:<name> for type attributes."
    )
    match = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="Optional matching keys: ci (id), serial_number, hostname, ip_addresses, "
        "primary_ip.",
    )
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), required=False, allow_null=True
    )


class DiscrepancyBriefSerializer(serializers.ModelSerializer[Discrepancy]):
    class Meta:
        model = Discrepancy
        fields = ["id", "field", "recorded_value", "observed_value", "status"]
        read_only_fields = fields


class DiscoverySerializer(ScopedModelSerializer):
    ci_name = serializers.CharField(source="ci.name", read_only=True, allow_null=True)

    class Meta:
        model = Discovery
        fields = [
            "id",
            "received_at",
            "source",
            "customer",
            "ci",
            "ci_name",
            "matched_by",
            "facts",
            "reported_by",
        ]
        read_only_fields = fields


class DiscoveryResultSerializer(DiscoverySerializer):
    discrepancies = serializers.SerializerMethodField()

    class Meta(DiscoverySerializer.Meta):
        fields = [*DiscoverySerializer.Meta.fields, "discrepancies"]
        read_only_fields = fields

    @extend_schema(responses=DiscrepancyBriefSerializer(many=True))
    def get_discrepancies(self, obj: Discovery) -> list[dict[str, Any]]:
        """The open discrepancies this observation raised or refreshed."""
        rows = obj.discrepancies.filter(status=Discrepancy.Status.OPEN).order_by("field")
        return list(DiscrepancyBriefSerializer(rows, many=True).data)


class DiscrepancySerializer(ScopedModelSerializer):
    ci_name = serializers.CharField(source="ci.name", read_only=True)
    received_at = serializers.DateTimeField(source="discovery.received_at", read_only=True)
    source = serializers.CharField(source="discovery.source", read_only=True)  # type: ignore[assignment]

    class Meta:
        model = Discrepancy
        fields = [
            "id",
            "ci",
            "ci_name",
            "discovery",
            "received_at",
            "source",
            "field",
            "recorded_value",
            "observed_value",
            "status",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = fields


# --- Views -------------------------------------------------------------------------------------


class DiscoveryViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Discovery],
):
    """Observations reported by agents, probes and scanners (``matched=false``: unknown devices)."""

    queryset = Discovery.objects.select_related("ci").order_by("-received_at", "-id")
    serializer_class = DiscoverySerializer
    filterset_class = DiscoveryFilterSet
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(request=DiscoveryInputSerializer, responses={201: DiscoveryResultSerializer})
    def create(self, request: Request) -> Response:
        """Report observed facts; answers with the matched CI and the open discrepancies."""
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # the body size middleware already refused a malformed header
        if length > MAX_PAYLOAD_BYTES:
            raise RequestTooLarge(
                _("The observation is larger than %(limit)d bytes.") % {"limit": MAX_PAYLOAD_BYTES}
            )
        payload = DiscoveryInputSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        data: dict[str, Any] = payload.validated_data
        try:
            discovery = record_discovery(
                actor=request_user(request),
                source=data["source"],
                facts=data["facts"],
                match=data.get("match"),
                customer=data.get("customer"),
            )
        except PayloadTooLargeError as error:
            raise RequestTooLarge(str(error)) from error
        body = DiscoveryResultSerializer(discovery, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


class _CanDecide(permissions.BasePermission):
    """Deciding needs ``change_discrepancy``; accepting also changes the CI."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        needed = ["cmdb.change_discrepancy"]
        if getattr(view, "action", None) == "accept":
            needed.append("cmdb.change_configurationitem")
        return user.has_perms(needed)


class DiscrepancyViewSet(ScopedReadOnlyViewSet):
    """Recorded vs. observed values; ``status=open`` ones wait for a decision."""

    queryset = Discrepancy.objects.select_related("ci", "discovery").order_by("-id")
    serializer_class = DiscrepancySerializer
    filterset_class = DiscrepancyFilterSet

    def get_permissions(self) -> Any:
        if self.action in {"accept", "reject"}:
            return [_CanDecide()]
        return super().get_permissions()

    @extend_schema(request=None, responses=DiscrepancySerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """Write the observed value to the CI (history source "discovery"). 409 if decided."""
        try:
            decided = accept_discrepancy(self.get_object(), request_user(request))
        except AlreadyDecidedError as error:
            raise Conflict(str(error)) from error
        return Response(self.get_serializer(decided).data)

    @extend_schema(request=None, responses=DiscrepancySerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Keep the recorded value. 409 if already decided."""
        try:
            decided = reject_discrepancy(self.get_object(), request_user(request))
        except AlreadyDecidedError as error:
            raise Conflict(str(error)) from error
        return Response(self.get_serializer(decided).data)
