"""Serializers of the on-call API (thin: writes go through the services)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework import serializers

from opsassure.core.api.base import ScopedModelSerializer
from opsassure.core.models import User
from opsassure.notify.models import Channel
from opsassure.oncall.models import (
    EscalationPolicy,
    EscalationPolicyStep,
    EscalationRun,
    EscalationStep,
    Handover,
    Layer,
    LayerParticipant,
    Override,
    Schedule,
)


class AwareDateTimeField(serializers.DateTimeField):
    """Refuses a time without a UTC offset instead of guessing the zone."""

    def to_internal_value(self, value: Any) -> dt.datetime:
        if isinstance(value, str):
            from django.utils.dateparse import parse_datetime

            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                raise serializers.ValidationError(
                    _("Give a UTC offset (e.g. +08:00 or Z): a time without one is ambiguous.")
                )
        return super().to_internal_value(value)


def staff_queryset() -> Any:
    return User.objects.filter(customer__isnull=True, is_active=True)


class ScheduleSerializer(ScopedModelSerializer):
    feed_url = serializers.SerializerMethodField()

    class Meta:
        model = Schedule
        fields = [
            "id",
            "team",
            "name",
            "description",
            "time_zone",
            "calendar",
            "is_active",
            "feed_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_feed_url(self, obj: Schedule) -> str:
        request = self.context.get("request")
        path = f"/oncall/feeds/schedule/{obj.feed_token}.ics"
        return request.build_absolute_uri(path) if request is not None else path


class LayerSerializer(ScopedModelSerializer):
    participants = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=User.objects.all(),
        help_text="User ids in turn order (a person may appear more than once).",
    )

    class Meta:
        model = Layer
        fields = [
            "id",
            "schedule",
            "name",
            "order",
            "kind",
            "length",
            "length_unit",
            "start_date",
            "handoff_time",
            "end_date",
            "participants",
        ]

    def validate_participants(self, value: list[User]) -> list[User]:
        for user in value:
            if user.customer_id is not None or not user.is_active:
                raise serializers.ValidationError(_("Only active provider staff can be on call."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("start_date", getattr(self.instance, "start_date", None))
        end = attrs.get("end_date", getattr(self.instance, "end_date", None))
        if start and end and end < start:
            raise serializers.ValidationError(
                {"end_date": _("The rotation ends before it starts.")}
            )
        return attrs

    @transaction.atomic
    def create(self, validated_data: dict[str, Any]) -> Layer:
        participants = validated_data.pop("participants", [])
        layer = Layer.objects.create(**validated_data)
        self._set_participants(layer, participants)
        return layer

    @transaction.atomic
    def update(self, instance: Layer, validated_data: dict[str, Any]) -> Layer:
        participants = validated_data.pop("participants", None)
        layer = super().update(instance, validated_data)
        if participants is not None:
            self._set_participants(layer, participants)
        return layer

    def _set_participants(self, layer: Layer, users: list[User]) -> None:
        LayerParticipant.objects.filter(layer=layer).delete()
        LayerParticipant.objects.bulk_create(
            LayerParticipant(layer=layer, user=user, position=position)
            for position, user in enumerate(users)
        )


class OverrideSerializer(ScopedModelSerializer):
    start = AwareDateTimeField()
    end = AwareDateTimeField()
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())

    class Meta:
        model = Override
        fields = [
            "id",
            "schedule",
            "user",
            "start",
            "end",
            "kind",
            "reason",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["kind", "created_by", "created_at"]


class SwapSerializer(serializers.Serializer[Any]):
    schedule = serializers.PrimaryKeyRelatedField(queryset=Schedule.objects.all())
    first_user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    first_start = AwareDateTimeField()
    first_end = AwareDateTimeField()
    second_user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    second_start = AwareDateTimeField()
    second_end = AwareDateTimeField()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ShiftSerializer(serializers.Serializer[Any]):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    user = serializers.IntegerField(source="user.pk")
    user_name = serializers.CharField(source="user.__str__")
    layer = serializers.IntegerField(source="layer.pk", allow_null=True, default=None)
    override = serializers.IntegerField(source="override.pk", allow_null=True, default=None)
    source = serializers.CharField()  # type: ignore[assignment]


class OnCallNowSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    users = serializers.ListField(child=serializers.IntegerField())
    shift = ShiftSerializer(allow_null=True)


class HandoverSerializer(ScopedModelSerializer):
    incoming = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )
    handoff_at = AwareDateTimeField(required=False, allow_null=True)

    class Meta:
        model = Handover
        fields = [
            "id",
            "schedule",
            "handoff_at",
            "outgoing",
            "incoming",
            "open_issues",
            "notes",
            "state",
            "acknowledged_at",
            "acknowledged_by",
            "escalated_at",
            "created_at",
        ]
        read_only_fields = [
            "outgoing",
            "state",
            "acknowledged_at",
            "acknowledged_by",
            "escalated_at",
            "created_at",
        ]


class PolicyStepSerializer(ScopedModelSerializer):
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=[Channel.EMAIL, Channel.SMS, Channel.VOICE]),
        required=False,
    )

    class Meta:
        model = EscalationPolicyStep
        fields = ["target", "user", "schedule", "team", "channels", "wait_minutes", "repeat"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        needed = {"user": "user", "schedule": "schedule", "team": "team"}.get(attrs["target"])
        if needed and not attrs.get(needed):
            raise serializers.ValidationError({needed: _("Choose whom this step notifies.")})
        return attrs


class EscalationPolicySerializer(ScopedModelSerializer):
    steps = PolicyStepSerializer(many=True)

    class Meta:
        model = EscalationPolicy
        fields = ["id", "name", "team", "description", "steps", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def to_representation(self, instance: EscalationPolicy) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["steps"] = PolicyStepSerializer(
            instance.steps.order_by("position"), many=True, context=self.context
        ).data
        return data

    @transaction.atomic
    def create(self, validated_data: dict[str, Any]) -> EscalationPolicy:
        steps = validated_data.pop("steps", [])
        policy = EscalationPolicy.objects.create(**validated_data)
        self._set_steps(policy, steps)
        return policy

    @transaction.atomic
    def update(
        self, instance: EscalationPolicy, validated_data: dict[str, Any]
    ) -> EscalationPolicy:
        steps = validated_data.pop("steps", None)
        policy = super().update(instance, validated_data)
        if steps is not None:
            self._set_steps(policy, steps)
        return policy

    def _set_steps(self, policy: EscalationPolicy, steps: list[dict[str, Any]]) -> None:
        # Running escalations follow their snapshot: replacing the steps is safe.
        EscalationPolicyStep.objects.filter(policy=policy).delete()
        for position, values in enumerate(steps):
            EscalationPolicyStep.objects.create(policy=policy, position=position, **values)


class EscalationStepSerializer(serializers.ModelSerializer[EscalationStep]):
    class Meta:
        model = EscalationStep
        fields = [
            "id",
            "position",
            "repeat",
            "due_at",
            "state",
            "claimed_at",
            "done_at",
            "notified",
            "error",
        ]


class EscalationRunSerializer(serializers.ModelSerializer[EscalationRun]):
    steps = EscalationStepSerializer(many=True, read_only=True)

    class Meta:
        model = EscalationRun
        fields = [
            "id",
            "title",
            "severity",
            "state",
            "customer",
            "ticket",
            "policy",
            "policy_snapshot",
            "source_type",
            "source_id",
            "created_at",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledged_via",
            "resolved_at",
            "resolved_by",
            "resolved_via",
            "stalled_at",
            "steps",
        ]
        read_only_fields = fields
