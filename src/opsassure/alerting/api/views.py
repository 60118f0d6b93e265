from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from opsassure.alerting import services
from opsassure.alerting.api import serializers as s
from opsassure.alerting.filtersets import AlertFilterSet, AlertGroupFilterSet
from opsassure.alerting.models import (
    Alert,
    AlertGroup,
    InhibitionRule,
    Integration,
    MaintenanceWindow,
    RoutingRule,
    Silence,
)
from opsassure.core.api.base import ScopedModelViewSet, ScopedReadOnlyViewSet
from opsassure.core.api.pagination import StableCursorPagination
from opsassure.core.auth import request_user


class ChangePermission(permissions.BasePermission):
    """Actions that change a row need the model's change permission (plus the scope)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        model = view.queryset.model
        perm = f"{model._meta.app_label}.change_{model._meta.model_name}"
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(perm))


class IntegrationViewSet(ScopedModelViewSet):
    """Inbound integrations; ``ingest_url`` is what to paste into the sender."""

    queryset = Integration.objects.select_related("customer").order_by("name", "id")
    serializer_class = s.IntegrationSerializer
    filterset_fields = ["kind", "customer", "enabled"]
    search_fields = ["name"]

    @extend_schema(request=None, responses={200: s.IntegrationSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ChangePermission])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        integration = self.get_object()
        services.revoke_integration(integration)
        integration.refresh_from_db()
        return Response(self.get_serializer(integration).data)

    @extend_schema(request=None, responses={202: s.AlertSerializer(many=True)})
    @action(
        detail=True, methods=["post"], url_path="test-alert", permission_classes=[ChangePermission]
    )
    def test_alert(self, request: Request, pk: str | None = None) -> Response:
        integration = self.get_object()
        batch = services.send_test_alert(integration, user=request_user(request))
        alerts = Alert.objects.filter(batch=batch).order_by("pk")
        return Response(s.AlertSerializer(alerts, many=True).data, status=status.HTTP_202_ACCEPTED)


class AlertViewSet(ScopedReadOnlyViewSet):
    """Alerts (one row per fingerprint and cycle), newest first."""

    queryset = Alert.objects.order_by("-id")
    serializer_class = s.AlertSerializer
    filterset_class = AlertFilterSet
    pagination_class = StableCursorPagination


class AlertGroupViewSet(ScopedReadOnlyViewSet):
    """Alert groups; ``acknowledge`` stops the paging, ``events`` is the timeline."""

    queryset = AlertGroup.objects.order_by("-id")
    serializer_class = s.AlertGroupSerializer
    filterset_class = AlertGroupFilterSet
    pagination_class = StableCursorPagination

    @extend_schema(request=None, responses={200: s.AlertGroupSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ChangePermission])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        group = self.get_object()
        services.acknowledge_group(group, user=request_user(request), via="api")
        group.refresh_from_db()
        return Response(self.get_serializer(group).data)

    @extend_schema(responses={200: s.AlertEventSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def events(self, request: Request, pk: str | None = None) -> Response:
        group = self.get_object()
        rows = group.events.order_by("at", "id")[:1000]
        return Response(s.AlertEventSerializer(rows, many=True).data)


class RoutingRuleViewSet(ScopedModelViewSet):
    queryset = RoutingRule.objects.order_by("position", "id")
    serializer_class = s.RoutingRuleSerializer
    filterset_fields = ["customer", "integration", "enabled", "action"]


class SilenceViewSet(ScopedModelViewSet):
    """Silences; ``expire`` ends one now (it stays listed as history)."""

    queryset = Silence.objects.prefetch_related("cis").order_by("-starts_at", "-id")
    serializer_class = s.SilenceSerializer
    filterset_fields = ["customer"]

    def perform_create(self, serializer: Any) -> None:
        serializer.save(created_by=self.request.user)

    @extend_schema(request=None, responses={200: s.SilenceSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ChangePermission])
    def expire(self, request: Request, pk: str | None = None) -> Response:
        silence = self.get_object()
        services.expire_silence(silence)
        return Response(self.get_serializer(silence).data)


class MaintenanceWindowViewSet(ScopedModelViewSet):
    queryset = MaintenanceWindow.objects.prefetch_related("cis").order_by("-starts_at", "-id")
    serializer_class = s.MaintenanceWindowSerializer
    filterset_fields = ["customer", "recurrence", "source_type", "source_id"]

    def perform_create(self, serializer: Any) -> None:
        serializer.save(created_by=self.request.user)


class InhibitionRuleViewSet(ScopedModelViewSet):
    queryset = InhibitionRule.objects.order_by("name", "id")
    serializer_class = s.InhibitionRuleSerializer
    filterset_fields = ["customer", "enabled"]
