"""On-call API: schedules (who is on call, shifts), layers, overrides, handovers, escalation
policies and escalations (acknowledge / resolve / escalate). Scoped like every endpoint."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from opsassure.catalog.api.views import parse_instant
from opsassure.core.api.base import ScopedModelViewSet, ScopedReadOnlyViewSet, ScopedViewSetMixin
from opsassure.oncall import handovers, services
from opsassure.oncall.api import serializers as s
from opsassure.oncall.models import (
    EscalationPolicy,
    EscalationRun,
    Handover,
    Layer,
    Override,
    Schedule,
)

MAX_SHIFT_WINDOW = dt.timedelta(days=92)


AT = OpenApiParameter("at", OpenApiTypes.DATETIME, description="ISO 8601 with offset; default now")
START = OpenApiParameter("start", OpenApiTypes.DATETIME, required=True)
END = OpenApiParameter(
    "end", OpenApiTypes.DATETIME, required=True, description="at most 92 days after start"
)


class ScheduleViewSet(ScopedModelViewSet):
    """On-call schedules of the provider's teams."""

    queryset = Schedule.objects.select_related("team", "calendar").order_by(
        "team__code", "name", "id"
    )
    serializer_class = s.ScheduleSerializer
    filterset_fields = ["team", "is_active"]
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]

    @extend_schema(parameters=[AT], responses=s.OnCallNowSerializer)
    @action(detail=True, methods=["get"], url_path="oncall-now")
    def oncall_now(self, request: Request, pk: str | None = None) -> Response:
        """Who is on call now, or at ``?at=``."""
        schedule = self.get_object()
        raw = request.query_params.get("at")
        at = parse_instant(raw, "at") if raw else timezone.now()
        shift = services.current_shift(schedule, at)
        payload = {"at": at, "users": [shift.user.pk] if shift else [], "shift": shift}
        return Response(s.OnCallNowSerializer(payload).data)

    @extend_schema(parameters=[START, END], responses=s.ShiftSerializer(many=True))
    @action(detail=True, methods=["get"])
    def shifts(self, request: Request, pk: str | None = None) -> Response:
        """The computed shifts from ``start`` to ``end`` (overrides applied)."""
        schedule = self.get_object()
        start = parse_instant(request.query_params.get("start"), "start")
        end = parse_instant(request.query_params.get("end"), "end")
        if not start < end <= start + MAX_SHIFT_WINDOW:
            raise serializers.ValidationError({"end": ["After start, at most 92 days later."]})
        return Response(
            s.ShiftSerializer(list(services.shifts(schedule, start, end)), many=True).data
        )


class LayerViewSet(ScopedModelViewSet):
    """Rotation layers: participants in turn order, shift length, hand-off time."""

    queryset = Layer.objects.select_related("schedule").order_by("schedule_id", "order", "id")
    serializer_class = s.LayerSerializer
    filterset_fields = ["schedule"]


class OverrideViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[Override],
):
    """Overrides: someone covers a schedule for a while; ``swap`` exchanges two shifts."""

    queryset = Override.objects.select_related("user").order_by("schedule_id", "start", "id")
    serializer_class = s.OverrideSerializer
    filterset_fields = ["schedule", "user", "kind"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        override = services.create_override(
            data["schedule"],
            user=data["user"],
            start=data["start"],
            end=data["end"],
            reason=data.get("reason", ""),
            actor=request.user,  # type: ignore[arg-type]
        )
        return Response(self.get_serializer(override).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            return super().destroy(request, *args, **kwargs)

    @extend_schema(request=s.SwapSerializer, responses={201: s.OverrideSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def swap(self, request: Request) -> Response:
        """Two people swap shifts: each covers the other's period."""
        serializer = s.SwapSerializer(data=request.data, context=self.get_serializer_context())
        serializer.fields["schedule"].queryset = Schedule.objects.visible_to(request.user)  # type: ignore[attr-defined]
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        pair = services.swap_shifts(
            data["schedule"],
            first=(data["first_user"], data["first_start"], data["first_end"]),
            second=(data["second_user"], data["second_start"], data["second_end"]),
            reason=data["reason"],
            actor=request.user,  # type: ignore[arg-type]
        )
        return Response(
            self.get_serializer(list(pair), many=True).data, status=status.HTTP_201_CREATED
        )


class HandoverViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[Handover],
):
    """The handover log (交接班): the outgoing person writes, the incoming acknowledges."""

    queryset = Handover.objects.select_related("schedule").order_by("-handoff_at", "-id")
    serializer_class = s.HandoverSerializer
    filterset_fields = ["schedule", "state", "incoming", "outgoing"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        handover = handovers.write_handover(
            data["schedule"],
            outgoing=request.user,  # type: ignore[arg-type]
            incoming=data.get("incoming"),
            open_issues=data.get("open_issues", ""),
            notes=data.get("notes", ""),
            handoff_at=data.get("handoff_at"),
        )
        return Response(self.get_serializer(handover).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.HandoverSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        """The incoming person (or the team lead) confirms the handover."""
        handover = handovers.acknowledge_handover(self.get_object(), user=request.user)  # type: ignore[arg-type]
        return Response(self.get_serializer(handover).data)


class EscalationPolicyViewSet(ScopedModelViewSet):
    """Escalation policies with their ordered steps (a write replaces the steps)."""

    queryset = EscalationPolicy.objects.select_related("team").order_by("name", "id")
    serializer_class = s.EscalationPolicySerializer
    filterset_fields = ["team"]
    search_fields = ["name"]


class RespondPermission(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(
            request.user
            and request.user.is_authenticated
            and request.user.has_perm("oncall.change_escalationrun")
        )


class EscalationRunViewSet(ScopedReadOnlyViewSet):
    """Escalations (runs of a policy) with their steps; acknowledge, resolve, escalate now."""

    queryset = (
        EscalationRun.objects.select_related("customer")
        .prefetch_related("steps")
        .order_by("-created_at", "-id")
    )
    serializer_class = s.EscalationRunSerializer
    filterset_fields = ["state", "customer", "severity", "ticket"]

    def get_permissions(self) -> Any:
        if self.action in ("acknowledge", "resolve", "escalate"):
            return [RespondPermission()]
        return super().get_permissions()

    def _respond(self, run: EscalationRun) -> Response:
        fresh: QuerySet[EscalationRun] = self.get_queryset()
        return Response(self.get_serializer(fresh.get(pk=run.pk)).data)

    @extend_schema(request=None, responses=s.EscalationRunSerializer)
    @action(detail=True, methods=["post"], url_path="ack")
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        """Acknowledge (idempotent: an acknowledged run keeps its first acknowledger)."""
        run = services.acknowledge(self.get_object(), user=request.user, via="api")  # type: ignore[arg-type]
        return self._respond(run)

    @extend_schema(request=None, responses=s.EscalationRunSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Resolve: paging stops for good (idempotent)."""
        run = services.resolve(self.get_object(), user=request.user, via="api")  # type: ignore[arg-type]
        return self._respond(run)

    @extend_schema(request=None, responses=s.EscalationRunSerializer)
    @action(detail=True, methods=["post"])
    def escalate(self, request: Request, pk: str | None = None) -> Response:
        """Page the next level now (409 if the run is not active or has no further level)."""
        run = services.escalate_now(self.get_object(), user=request.user)  # type: ignore[arg-type]
        return self._respond(run)
