from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from opsassure.alerting import matchers
from opsassure.alerting.models import (
    Alert,
    AlertEvent,
    AlertGroup,
    InhibitionRule,
    Integration,
    MaintenanceWindow,
    RoutingRule,
    Silence,
)
from opsassure.core.api.base import ScopedModelSerializer
from opsassure.core.forms import in_supported_range


class CustomerOwnedSerializer(ScopedModelSerializer):
    """Customer users write rows of their own customer only; a provider-wide row (no customer)
    needs ``core.access_all_customers`` (a service manager), because it reaches every customer."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None:
            return attrs
        if (
            self.instance is not None
            and "customer" in attrs
            and attrs["customer"] != self.instance.customer
        ):
            raise serializers.ValidationError({"customer": [_("The customer cannot change.")]})
        if self.instance is None:
            customer = attrs.get("customer")
            if user.customer_id is not None:
                if customer is None:
                    attrs["customer"] = user.customer
                elif customer.pk != user.customer_id:
                    raise serializers.ValidationError({"customer": [_("Not your customer.")]})
            elif customer is None and not (
                user.is_superuser or user.has_perm("core.access_all_customers")
            ):
                raise serializers.ValidationError(
                    {"customer": [_("Only service managers create provider-wide entries.")]}
                )
        return attrs


def _validated_matchers(value: Any) -> list[str]:
    try:
        return matchers.validate(value)
    except matchers.MatcherError as error:
        raise serializers.ValidationError(str(error)) from error


class IntegrationSerializer(CustomerOwnedSerializer):
    ingest_url = serializers.SerializerMethodField()
    bearer_token = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Optional; stored as its SHA-256 only.",
    )
    has_bearer_token = serializers.SerializerMethodField()

    class Meta:
        model = Integration
        fields = [
            "id",
            "customer",
            "name",
            "kind",
            "enabled",
            "revoked_at",
            "rate_limit_per_minute",
            "group_by",
            "default_action",
            "flap_changes",
            "flap_window_minutes",
            "last_received_at",
            "ingest_url",
            "bearer_token",
            "has_bearer_token",
            "created_at",
        ]
        read_only_fields = ["revoked_at", "last_received_at", "created_at"]

    def get_ingest_url(self, obj: Integration) -> str:
        request = self.context.get("request")
        path = obj.ingest_path()
        return request.build_absolute_uri(path) if request is not None else path

    def get_has_bearer_token(self, obj: Integration) -> bool:
        return bool(obj.bearer_token_hash)

    def validate_group_by(self, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise serializers.ValidationError(_("A list of label names."))
        return value

    def create(self, validated_data: dict[str, Any]) -> Integration:
        token = validated_data.pop("bearer_token", "")
        integration = Integration(**validated_data)
        integration.set_bearer_token(token)
        request = self.context.get("request")
        integration.created_by = getattr(request, "user", None)
        integration.save()
        return integration

    def update(self, instance: Integration, validated_data: dict[str, Any]) -> Integration:
        if "bearer_token" in validated_data:
            instance.set_bearer_token(validated_data.pop("bearer_token"))
        result: Integration = super().update(instance, validated_data)
        return result


class AlertSerializer(ScopedModelSerializer):
    class Meta:
        model = Alert
        fields = [
            "id",
            "integration",
            "customer",
            "fingerprint",
            "cycle",
            "status",
            "alertname",
            "summary",
            "severity",
            "labels",
            "annotations",
            "starts_at",
            "ends_at",
            "first_seen",
            "last_seen",
            "repeat_count",
            "generator_url",
            "group",
            "ci",
            "suppressed",
            "suppressed_by",
        ]
        read_only_fields = fields


class AlertGroupSerializer(ScopedModelSerializer):
    class Meta:
        model = AlertGroup
        fields = [
            "id",
            "customer",
            "integration",
            "group_key",
            "title",
            "state",
            "is_open",
            "severity",
            "labels",
            "ci",
            "service",
            "owner_team",
            "incident",
            "routing_rule",
            "action",
            "flapping",
            "firing_count",
            "alert_count",
            "started_at",
            "last_alert_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
        ]
        read_only_fields = fields


class AlertEventSerializer(ScopedModelSerializer):
    class Meta:
        model = AlertEvent
        fields = ["id", "group", "alert", "kind", "at", "actor", "message", "data"]
        read_only_fields = fields


class RoutingRuleSerializer(CustomerOwnedSerializer):
    class Meta:
        model = RoutingRule
        fields = [
            "id",
            "customer",
            "integration",
            "name",
            "position",
            "enabled",
            "matchers",
            "severities",
            "ci",
            "action",
            "priority_map",
            "auto_resolve",
            "team",
            "destination",
            "escalation_policy",
        ]

    def validate_matchers(self, value: Any) -> list[str]:
        return _validated_matchers(value)

    def validate_severities(self, value: Any) -> list[str]:
        allowed = {"critical", "high", "warning", "info"}
        if not isinstance(value, list) or not set(value) <= allowed:
            raise serializers.ValidationError(_("A list of: critical, high, warning, info."))
        return value

    def validate_priority_map(self, value: Any) -> dict[str, int]:
        if not isinstance(value, dict) or not all(
            k in {"critical", "high", "warning", "info"} and v in (1, 2, 3, 4)
            for k, v in value.items()
        ):
            raise serializers.ValidationError(_("Severity → priority 1–4."))
        return value


class SilenceSerializer(CustomerOwnedSerializer):
    class Meta:
        model = Silence
        fields = [
            "id",
            "customer",
            "matchers",
            "cis",
            "starts_at",
            "ends_at",
            "comment",
            "created_by",
        ]
        read_only_fields = ["created_by"]
        extra_kwargs = {
            "starts_at": {"validators": [in_supported_range]},
            "ends_at": {"validators": [in_supported_range]},
        }

    def validate_matchers(self, value: Any) -> list[str]:
        return _validated_matchers(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        starts = attrs.get("starts_at", getattr(self.instance, "starts_at", None))
        ends = attrs.get("ends_at", getattr(self.instance, "ends_at", None))
        if starts and ends and ends <= starts:
            raise serializers.ValidationError({"ends_at": [_("The end must be after the start.")]})
        if self.instance is None and not attrs.get("matchers") and not attrs.get("cis"):
            raise serializers.ValidationError(
                {"matchers": [_("Give at least one label matcher or configuration item.")]}
            )
        return attrs


class MaintenanceWindowSerializer(CustomerOwnedSerializer):
    class Meta:
        model = MaintenanceWindow
        fields = [
            "id",
            "customer",
            "name",
            "matchers",
            "cis",
            "include_dependents",
            "starts_at",
            "ends_at",
            "time_zone",
            "recurrence",
            "weekdays",
            "repeat_until",
            "source_type",
            "source_id",
            "created_by",
        ]
        read_only_fields = ["source_type", "source_id", "created_by"]
        extra_kwargs = {
            "starts_at": {"validators": [in_supported_range]},
            "ends_at": {"validators": [in_supported_range]},
        }

    def validate_matchers(self, value: Any) -> list[str]:
        return _validated_matchers(value)

    def validate_weekdays(self, value: Any) -> list[int]:
        if not isinstance(value, list) or not all(
            isinstance(d, int) and 0 <= d <= 6 for d in value
        ):
            raise serializers.ValidationError(_("Weekdays are 0 (Monday) to 6 (Sunday)."))
        return value

    def validate_time_zone(self, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
            raise serializers.ValidationError(_("Unknown time zone.")) from error
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        starts = attrs.get("starts_at", getattr(self.instance, "starts_at", None))
        ends = attrs.get("ends_at", getattr(self.instance, "ends_at", None))
        if starts and ends and ends <= starts:
            raise serializers.ValidationError({"ends_at": [_("The end must be after the start.")]})
        if self.instance is None and not attrs.get("matchers") and not attrs.get("cis"):
            raise serializers.ValidationError(
                {"cis": [_("Give at least one configuration item or label matcher.")]}
            )
        return attrs


class InhibitionRuleSerializer(CustomerOwnedSerializer):
    class Meta:
        model = InhibitionRule
        fields = [
            "id",
            "customer",
            "name",
            "enabled",
            "source_matchers",
            "target_matchers",
            "equal",
        ]

    def validate_source_matchers(self, value: Any) -> list[str]:
        return _validated_matchers(value)

    def validate_target_matchers(self, value: Any) -> list[str]:
        result = _validated_matchers(value)
        if not result:
            raise serializers.ValidationError(_("At least one target matcher."))
        return result

    def validate_equal(self, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise serializers.ValidationError(_("A list of label names."))
        return value
