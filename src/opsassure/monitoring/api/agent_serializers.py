"""Serializers of the metrics API: agent tokens, agents, metric series, threshold rules."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from opsassure.core.api.base import ScopedModelSerializer
from opsassure.monitoring import rules
from opsassure.monitoring.models import Agent, AgentToken, MetricSeries, ThresholdRule


def _own_customer(serializer: serializers.Serializer[Any], attrs: dict[str, Any]) -> None:
    """Customer users write rows of their own customer; the customer of a row never moves."""
    request = serializer.context.get("request")
    user = getattr(request, "user", None)
    instance = serializer.instance
    if instance is not None and "customer" in attrs and attrs["customer"] != instance.customer:
        raise serializers.ValidationError({"customer": [_("The customer cannot change.")]})
    if instance is None and user is not None and user.customer_id is not None:
        customer = attrs.get("customer")
        if customer is None:
            attrs["customer"] = user.customer
        elif customer.pk != user.customer_id:
            raise serializers.ValidationError({"customer": [_("Not your customer.")]})


class AgentTokenSerializer(ScopedModelSerializer):
    token = serializers.SerializerMethodField(
        help_text="The full token: in the answer to the create request only."
    )

    class Meta:
        model = AgentToken
        fields = ["id", "customer", "name", "key_id", "token", "revoked_at", "last_used_at"]
        read_only_fields = ["key_id", "revoked_at", "last_used_at"]
        extra_kwargs = {"customer": {"required": False}}

    def get_token(self, obj: AgentToken) -> str | None:
        issued: str | None = getattr(obj, "issued_token", None)
        return issued

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        _own_customer(self, attrs)
        if attrs.get("customer") is None:
            raise serializers.ValidationError(
                {"customer": [_("An agent token belongs to one customer.")]}
            )
        return attrs


class AgentSerializer(ScopedModelSerializer):
    class Meta:
        model = Agent
        fields = [
            "id",
            "customer",
            "hostname",
            "addresses",
            "ci",
            "token",
            "version",
            "interval_seconds",
            "last_seen_at",
            "facts",
        ]
        read_only_fields = fields


class MetricSeriesSerializer(ScopedModelSerializer):
    class Meta:
        model = MetricSeries
        fields = [
            "id",
            "customer",
            "ci",
            "agent",
            "monitor",
            "name",
            "dimension",
            "unit",
            "last_value",
            "last_at",
        ]
        read_only_fields = fields


class ThresholdRuleSerializer(ScopedModelSerializer):
    firing = serializers.IntegerField(read_only=True, default=0)
    pending = serializers.IntegerField(read_only=True, default=0)
    # Plain fields: rules.validate_rule checks them and answers with the reason.
    operator = serializers.CharField(max_length=8)
    severity = serializers.CharField(max_length=16, required=False)
    for_seconds = serializers.IntegerField(required=False)

    class Meta:
        model = ThresholdRule
        fields = [
            "id",
            "customer",
            "name",
            "enabled",
            "metric",
            "dimension",
            "operator",
            "threshold",
            "for_seconds",
            "recovery_threshold",
            "severity",
            "labels",
            "ci",
            "ci_type",
            "tag",
            "firing",
            "pending",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        _own_customer(self, attrs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        current = self.instance
        merged = {
            key: attrs.get(key, getattr(current, key) if current is not None else None)
            for key in rules.RULE_FIELDS
        }
        if (
            current is None
            and merged["customer"] is None
            and user is not None
            and not (user.is_superuser or user.has_perm("core.access_all_customers"))
        ):
            raise serializers.ValidationError(
                {"customer": [_("Only service managers create rules for every customer.")]}
            )
        rules.validate_rule(
            name=merged["name"],
            metric=merged["metric"],
            operator=merged["operator"],
            threshold=merged["threshold"],
            for_seconds=300 if merged["for_seconds"] is None else merged["for_seconds"],
            recovery_threshold=merged["recovery_threshold"],
            severity=merged["severity"] or "warning",
            labels=merged["labels"],
            dimension=merged["dimension"] or "",
            customer_id=merged["customer"].pk if merged["customer"] is not None else None,
            ci=merged["ci"],
        )
        return attrs
