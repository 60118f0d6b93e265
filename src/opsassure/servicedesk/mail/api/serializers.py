from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from opsassure.core.api.base import ScopedModelSerializer
from opsassure.servicedesk.models import InboundMail, Mailbox


class MailboxSerializer(ScopedModelSerializer):
    """A polled IMAP mailbox. ``imap_password`` is write-only: it is never returned."""

    imap_password = serializers.CharField(
        write_only=True, required=False, max_length=255, style={"input_type": "password"}
    )
    has_password = serializers.SerializerMethodField()

    class Meta:
        model = Mailbox
        fields = [
            "id",
            "customer",
            "name",
            "address",
            "imap_host",
            "imap_port",
            "imap_ssl",
            "imap_username",
            "imap_password",
            "has_password",
            "imap_folder",
            "unknown_sender",
            "default_team",
            "is_active",
            "last_uid",
            "uid_validity",
            "last_polled_at",
            "last_error",
        ]
        read_only_fields = ["last_uid", "uid_validity", "last_polled_at", "last_error"]

    def get_has_password(self, obj: Mailbox) -> bool:
        return bool(obj.imap_password)

    def validate_imap_port(self, value: int) -> int:
        if not 1 <= value <= 65535:
            raise serializers.ValidationError(_("A port is between 1 and 65535."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and not attrs.get("imap_password"):
            raise serializers.ValidationError({"imap_password": [_("This field is required.")]})
        customer = attrs.get("customer", getattr(self.instance, "customer", None))
        team = attrs.get("default_team", getattr(self.instance, "default_team", None))
        if (
            team is not None
            and customer is not None
            and not team.customers.filter(pk=customer.pk).exists()
        ):
            raise serializers.ValidationError(
                {"default_team": [_("This team does not serve the mailbox's customer.")]}
            )
        return attrs


class InboundMailSerializer(ScopedModelSerializer):
    """A stored inbound mail (read-only; the raw message is served separately)."""

    mailbox_name = serializers.CharField(source="mailbox.name", read_only=True)
    ticket_number = serializers.CharField(source="ticket.number", read_only=True, default="")

    class Meta:
        model = InboundMail
        fields = [
            "id",
            "mailbox",
            "mailbox_name",
            "uid",
            "message_id",
            "sender",
            "subject",
            "state",
            "attempts",
            "error",
            "ticket",
            "ticket_number",
            "received_at",
            "next_attempt_at",
        ]
        read_only_fields = fields
