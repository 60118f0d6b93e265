from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from opsassure.core.api.base import ScopedModelSerializer
from opsassure.core.tenancy import visible_customer_ids
from opsassure.notify import validation
from opsassure.notify.models import Destination, Notification, NotificationRule


class DestinationSerializer(ScopedModelSerializer):
    """A robot, webhook, gateway or list. ``url`` and ``secret`` are write-only: robot URLs
    carry their token, so both come back masked only."""

    url = serializers.CharField(write_only=True, required=False, max_length=2000)
    secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500
    )
    url_masked = serializers.CharField(source="masked_url", read_only=True)
    secret_masked = serializers.CharField(source="masked_secret", read_only=True)
    effective_rate_limit = serializers.IntegerField(read_only=True)

    class Meta:
        model = Destination
        fields = [
            "id",
            "customer",
            "name",
            "kind",
            "url",
            "url_masked",
            "secret",
            "secret_masked",
            "settings",
            "rate_limit_per_minute",
            "effective_rate_limit",
            "enabled",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance
        request = self.context.get("request")
        user = getattr(request, "user", None)
        customer = attrs.get("customer", getattr(instance, "customer", None))
        if customer is None and user is not None and visible_customer_ids(user) is not None:
            raise serializers.ValidationError(
                {"customer": [_("Only users who see all customers may add provider-wide ones.")]}
            )
        if instance is not None and "kind" in attrs and attrs["kind"] != instance.kind:
            raise serializers.ValidationError({"kind": [_("The kind cannot be changed.")]})
        kind = attrs.get("kind", getattr(instance, "kind", ""))
        url = attrs.get("url", getattr(instance, "url", ""))
        settings = attrs.get("settings", getattr(instance, "settings", {}))
        if instance is None and "url" not in attrs and kind not in ("sms", "voice"):
            raise serializers.ValidationError({"url": [_("This field is required.")]})
        problems = validation.destination_problems(kind, url, settings)
        if problems:
            raise serializers.ValidationError(problems)
        return attrs


class NotificationSerializer(ScopedModelSerializer):
    """One outbox row (read-only). Robot URLs in ``address`` are masked."""

    address = serializers.CharField(source="shown_address", read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "customer",
            "user",
            "destination",
            "channel",
            "address",
            "language",
            "severity",
            "subject",
            "body",
            "state",
            "attempts",
            "next_attempt_at",
            "last_error",
            "provider_reply",
            "sent_at",
            "created_at",
            "dedup_key",
            "source_type",
            "source_id",
            "digest",
        ]
        read_only_fields = fields


class NotificationRuleSerializer(ScopedModelSerializer):
    """One of the requesting user's own rules (the user is always the requester)."""

    class Meta:
        model = NotificationRule
        fields = [
            "id",
            "severities",
            "channels",
            "quiet_start",
            "quiet_end",
            "order",
            "enabled",
        ]

    def validate_severities(self, value: Any) -> Any:
        problems = validation.severities_problems(value)
        if problems:
            raise serializers.ValidationError(problems)
        return value

    def validate_channels(self, value: Any) -> Any:
        problems = validation.user_channels_problems(value)
        if problems:
            raise serializers.ValidationError(problems)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("quiet_start", getattr(self.instance, "quiet_start", None))
        end = attrs.get("quiet_end", getattr(self.instance, "quiet_end", None))
        if (start is None) != (end is None):
            raise serializers.ValidationError(
                {"quiet_end": [_("Give both the start and the end of the quiet hours, or none.")]}
            )
        if start is not None and start == end:
            raise serializers.ValidationError(
                {"quiet_end": [_("Quiet hours must not start and end at the same time.")]}
            )
        return attrs
