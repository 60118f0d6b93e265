from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from opsassure.core.api.base import ScopedModelViewSet, ScopedReadOnlyViewSet
from opsassure.core.api.errors import Conflict
from opsassure.core.audit import record
from opsassure.servicedesk.mail import inbound
from opsassure.servicedesk.mail.api.serializers import InboundMailSerializer, MailboxSerializer
from opsassure.servicedesk.models import InboundMail, Mailbox


class MailboxViewSet(ScopedModelViewSet):
    """IMAP mailboxes polled for tickets (provider administration). No delete: their mail is
    kept; deactivate a mailbox instead."""

    queryset = Mailbox.objects.select_related("customer", "default_team").order_by("name", "id")
    serializer_class = MailboxSerializer
    filterset_fields = ["customer", "is_active"]
    search_fields = ["name", "address"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


class CanReprocess(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user.has_perm("servicedesk.change_inboundmail"))


class InboundMailViewSet(ScopedReadOnlyViewSet):
    """Stored inbound mail: inspect failed or ignored mail and reprocess it."""

    queryset = InboundMail.objects.select_related("mailbox", "ticket").order_by(
        "-received_at", "-id"
    )
    serializer_class = InboundMailSerializer
    filterset_fields = ["mailbox", "state", "ticket"]
    search_fields = ["subject", "sender", "message_id"]

    def get_queryset(self) -> QuerySet[Any]:
        # "raw" can be megabytes: never loaded for lists.
        return super().get_queryset().defer("raw")

    @extend_schema(request=None, responses=InboundMailSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CanReprocess])
    def reprocess(self, request: Request, pk: str | None = None) -> Response:
        """Process a failed or ignored mail again now (a person looked at it)."""
        mail = self.get_object()
        if mail.state == InboundMail.State.PROCESSED:
            raise Conflict(_("This mail was already processed into a ticket."))
        result = inbound.process(mail.pk, force=True)
        if result is None:
            raise Conflict(_("This mail is being processed right now; try again shortly."))
        record("update", instance=result, changes={"reprocessed": result.state})
        return Response(self.get_serializer(result).data, status=status.HTTP_200_OK)
