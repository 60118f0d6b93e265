from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from opsassure.cmdb import queries, services
from opsassure.cmdb.api import serializers as s
from opsassure.cmdb.filtersets import (
    CIChangeFilterSet,
    CIFilterSet,
    ContractFilterSet,
    LocationFilterSet,
    RelationFilterSet,
)
from opsassure.cmdb.models import (
    CIChange,
    CIType,
    ConfigurationItem,
    Location,
    MaintenanceContract,
    Relation,
    Supplier,
    Tag,
)
from opsassure.core.api.base import ScopedModelViewSet, ScopedReadOnlyViewSet, ScopedViewSetMixin
from opsassure.core.auth import request_user
from opsassure.core.models import Team
from opsassure.core.tenancy import scoped


class CITypeViewSet(ScopedModelViewSet):
    queryset = CIType.objects.order_by("sort_order", "code")
    serializer_class = s.CITypeSerializer
    filterset_fields = ["code", "is_builtin"]

    def perform_destroy(self, instance: CIType) -> None:
        if instance.is_builtin or instance.items.exists():
            raise serializers.ValidationError(
                _("Built-in types and types in use cannot be deleted.")
            )
        instance.delete()


class TagViewSet(ScopedModelViewSet):
    queryset = Tag.objects.order_by("name")
    serializer_class = s.TagSerializer
    search_fields = ["name"]


class SupplierViewSet(ScopedModelViewSet):
    queryset = Supplier.objects.order_by("name")
    serializer_class = s.SupplierSerializer
    search_fields = ["name"]


class LocationViewSet(ScopedModelViewSet):
    queryset = Location.objects.order_by("customer_id", "name", "id")
    serializer_class = s.LocationSerializer
    filterset_class = LocationFilterSet


class MaintenanceContractViewSet(ScopedModelViewSet):
    queryset = MaintenanceContract.objects.select_related("supplier").order_by("ends_on", "id")
    serializer_class = s.MaintenanceContractSerializer
    filterset_class = ContractFilterSet


class CIViewSet(ScopedModelViewSet):
    """Configuration items. Writes go through the CMDB services (schema, lifecycle, history)."""

    queryset = (
        ConfigurationItem.objects.select_related("ci_type")
        .prefetch_related("addresses", "tags")
        .order_by("name", "id")
    )
    serializer_class = s.CISerializer
    filterset_class = CIFilterSet
    ordering_fields = ["name", "status", "criticality", "warranty_end", "updated_at"]
    search_fields: list[str] = []  # the filterset's "q" does indexed search

    def perform_destroy(self, instance: ConfigurationItem) -> None:
        services.delete_ci(instance, actor=request_user(self.request))

    @extend_schema(
        parameters=[
            OpenApiParameter("depth", int, description="Hops to follow (1–10, default 5)"),
            OpenApiParameter(
                "direction",
                str,
                enum=["downstream", "upstream"],
                description="downstream: what fails with this CI; upstream: what it needs",
            ),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["get"])
    def impact(self, request: Request, pk: str | None = None) -> Response:
        """Impact analysis: the graph and the business services affected."""
        ci = self.get_object()
        direction = request.query_params.get("direction", "downstream")
        if direction not in {"downstream", "upstream"}:
            raise serializers.ValidationError({"direction": [_("downstream or upstream")]})
        try:
            depth = int(request.query_params.get("depth", "5"))
        except ValueError as error:
            raise serializers.ValidationError({"depth": [_("A whole number.")]}) from error
        graph = queries.impact(ci, request.user, depth=depth, direction=direction)
        return Response(graph.as_dict())

    @extend_schema(responses=s.CIChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Every change of this CI and its relations, newest first."""
        ci = self.get_object()
        page = self.paginate_queryset(queries.history(ci))
        data = s.CIChangeSerializer(page, many=True).data
        return self.get_paginated_response(data)

    @extend_schema(
        parameters=[OpenApiParameter("at", OpenApiTypes.DATETIME, required=True)],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["get"], url_path="as-of")
    def as_of(self, request: Request, pk: str | None = None) -> Response:
        """The CI as it was at a past time (fields, addresses, tags, relations)."""
        ci = self.get_object()
        raw = request.query_params.get("at", "")
        when = parse_datetime(raw) if raw else None
        if when is None:
            raise serializers.ValidationError({"at": [_("An ISO 8601 date and time.")]})
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        state = queries.ci_as_of(ci, when)
        if state is None:
            return Response(
                {
                    "error": {
                        "code": "not_found",
                        "message": _("The CI did not exist at that time."),
                        "fields": {},
                    }
                },
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(state)

    @extend_schema(request=s.BulkUpdateSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"], url_path="bulk-update")
    def bulk_update(self, request: Request) -> Response:
        """Set status / owner team / tags on many CIs at once (all or nothing)."""
        payload = s.BulkUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data: dict[str, Any] = payload.validated_data
        if not request.user.has_perm("cmdb.change_configurationitem"):
            self.permission_denied(request)
        cis = list(self.get_queryset().filter(pk__in=data["ids"]))
        if len(cis) != len(set(data["ids"])):
            return Response(
                {
                    "error": {
                        "code": "not_found",
                        "message": _("Some CIs do not exist or are not visible to you."),
                        "fields": {},
                    }
                },
                status=status.HTTP_404_NOT_FOUND,
            )
        owner = None
        if data.get("owner_team"):
            owner = scoped(Team, request.user).filter(pk=data["owner_team"]).first()
            if owner is None:
                raise serializers.ValidationError({"owner_team": [_("Unknown team.")]})
        with transaction.atomic():
            count = services.bulk_update(
                cis,
                actor=request_user(request),
                status=data.get("status") or None,
                owner_team=owner,
                add_tags=data.get("add_tags", []),
                remove_tags=data.get("remove_tags", []),
            )
        return Response({"updated": count})


class RelationViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[Relation],
):
    queryset = Relation.objects.select_related("source", "target").order_by("id")
    serializer_class = s.RelationSerializer
    filterset_class = RelationFilterSet

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            return super().create(request, *args, **kwargs)

    def perform_destroy(self, instance: Relation) -> None:
        with transaction.atomic():
            services.remove_relation(instance, actor=request_user(self.request), origin="api")


class CIChangeViewSet(ScopedReadOnlyViewSet):
    """The CI timeline across all visible CIs (newest first)."""

    queryset = CIChange.objects.order_by("-at", "-id")
    serializer_class = s.CIChangeSerializer
    filterset_class = CIChangeFilterSet
