from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from opsassure.core.api.base import ScopedModelViewSet, ScopedReadOnlyViewSet
from opsassure.core.auth import request_user
from opsassure.notify import services
from opsassure.notify.api.serializers import (
    DestinationSerializer,
    NotificationRuleSerializer,
    NotificationSerializer,
)
from opsassure.notify.models import Destination, Notification, NotificationRule


class CanChangeDestination(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user.has_perm("notify.change_destination"))


class DestinationViewSet(ScopedModelViewSet):
    """Notification destinations: robots, webhooks, SMS/voice gateways, mailing lists.
    No delete (their notifications keep pointing at them): disable one instead."""

    queryset = Destination.objects.select_related("customer").order_by("name", "id")
    serializer_class = DestinationSerializer
    filterset_fields = ["customer", "kind", "enabled"]
    search_fields = ["name"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    @extend_schema(request=None, responses={202: NotificationSerializer})
    @action(detail=True, methods=["post"], permission_classes=[CanChangeDestination])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Queue a test message; its delivery shows in the notifications."""
        destination = self.get_object()
        row = services.send_test_message(destination, user=request_user(request))
        return Response(
            NotificationSerializer(row, context=self.get_serializer_context()).data,
            status=status.HTTP_202_ACCEPTED,
        )


class NotificationViewSet(ScopedReadOnlyViewSet):
    """The outbox: every notification with its delivery state (read-only)."""

    queryset = Notification.objects.select_related("destination").order_by("-created_at", "-id")
    serializer_class = NotificationSerializer
    filterset_fields = [
        "state",
        "channel",
        "severity",
        "destination",
        "user",
        "source_type",
        "source_id",
    ]
    search_fields = ["subject"]


class NotificationRuleViewSet(ScopedModelViewSet):
    """The requesting user's own notification rules."""

    queryset = NotificationRule.objects.order_by("order", "id")
    serializer_class = NotificationRuleSerializer

    def perform_create(self, serializer: Any) -> None:
        serializer.save(user=request_user(self.request))
