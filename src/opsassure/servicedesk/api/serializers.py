"""Service-desk API serializers. Writes go through ``servicedesk.services``; these only
validate the shape of the input and present the rows."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from opsassure.catalog.models import Impact, Priority, Service, Urgency
from opsassure.cmdb.models import ConfigurationItem
from opsassure.core.api.base import ScopedModelSerializer
from opsassure.core.models import Customer, CustomerContact, Team, User
from opsassure.servicedesk import workflow
from opsassure.servicedesk.models import (
    Attachment,
    Channel,
    Escalation,
    PendingReason,
    Rating,
    ResolutionCode,
    SlaClock,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketStatus,
)

_STATUS_LABELS = dict(TicketStatus.choices)
_PRIORITY_LABELS = dict(Priority.choices)


def _user(context: dict[str, Any]) -> Any:
    request = context.get("request")
    return getattr(request, "user", None)


class TicketSerializer(ScopedModelSerializer):
    """A ticket as read; ``allowed_transitions`` are the moves the caller may make now."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    # Labels from the choices directly: ``get_FOO_display`` rebuilds a dict of the choices on
    # every call and DRF inspects its signature per row (a queue page renders 50 rows).
    status_display = serializers.SerializerMethodField()
    priority_display = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "kind",
            "customer",
            "customer_name",
            "title",
            "description",
            "status",
            "status_display",
            "pending_reason",
            "channel",
            "requester",
            "requester_contact",
            "requester_name",
            "requester_email",
            "shared_with_customer",
            "service",
            "cis",
            "category",
            "impact",
            "urgency",
            "priority",
            "priority_display",
            "sla_policy",
            "team",
            "assignee",
            "support_level",
            "is_major",
            "parent",
            "duplicate_of",
            "resolution_code",
            "resolution_note",
            "responded_at",
            "arrived_at",
            "resolved_at",
            "closed_at",
            "reopen_count",
            "response_due",
            "resolution_due",
            "sla_breached",
            "response_business_seconds",
            "resolution_business_seconds",
            "response_wall_seconds",
            "resolution_wall_seconds",
            "allowed_transitions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_status_display(self, obj: Ticket) -> str:
        return str(_STATUS_LABELS.get(obj.status, obj.status))

    @extend_schema_field(OpenApiTypes.STR)
    def get_priority_display(self, obj: Ticket) -> str:
        return str(_PRIORITY_LABELS.get(obj.priority, obj.priority))

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_transitions(self, obj: Ticket) -> list[str]:
        return workflow.allowed_targets(workflow.actor_kind(_user(self.context)), obj.status)


class TicketCreateSerializer(ScopedModelSerializer):
    """Opening a ticket. ``customer`` may be left out by a customer user (their own)."""

    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), required=False, allow_null=True
    )
    kind = serializers.ChoiceField(choices=TicketKind.choices, default=TicketKind.INCIDENT)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.API)
    impact = serializers.ChoiceField(choices=Impact.choices, default=Impact.MEDIUM)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.MEDIUM)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_null=True)
    requester = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )
    requester_contact = serializers.PrimaryKeyRelatedField(
        queryset=CustomerContact.objects.all(), required=False, allow_null=True
    )
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), required=False, allow_null=True
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )
    cis = serializers.PrimaryKeyRelatedField(
        queryset=ConfigurationItem.objects.all(), many=True, required=False
    )

    class Meta:
        model = Ticket
        fields = [
            "customer",
            "kind",
            "channel",
            "title",
            "description",
            "requester",
            "requester_contact",
            "requester_name",
            "requester_email",
            "service",
            "impact",
            "urgency",
            "priority",
            "category",
            "team",
            "assignee",
            "cis",
            "is_major",
            "shared_with_customer",
        ]


class TicketUpdateSerializer(ScopedModelSerializer):
    """Changing fields (provider staff). Status, assignment etc. have their own actions."""

    impact = serializers.ChoiceField(choices=Impact.choices, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)

    class Meta:
        model = Ticket
        fields = [
            "title",
            "description",
            "category",
            "impact",
            "urgency",
            "priority",
            "service",
            "is_major",
            "shared_with_customer",
            "parent",
            "duplicate_of",
            "requester_contact",
            "requester_name",
            "requester_email",
            "cis",
        ]
        extra_kwargs = {"title": {"required": False}}


class AssignSerializer(ScopedModelSerializer):
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Ticket
        fields = ["team", "assignee"]


class TransitionSerializer(serializers.Serializer[Any]):
    to = serializers.ChoiceField(choices=TicketStatus.choices)
    pending_reason = serializers.ChoiceField(
        choices=PendingReason.choices, required=False, allow_blank=True, default=""
    )
    resolution_code = serializers.ChoiceField(
        choices=ResolutionCode.choices, required=False, allow_blank=True, default=""
    )
    resolution_note = serializers.CharField(required=False, allow_blank=True, default="")
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class CommentSerializer(serializers.Serializer[Any]):
    body = serializers.CharField(max_length=100_000)
    public = serializers.BooleanField(
        default=True, help_text="False: an internal note (provider staff only)."
    )


class ArrivalSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField(required=False, allow_null=True)


class RateSerializer(serializers.Serializer[Any]):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class RateByTokenSerializer(RateSerializer):
    token = serializers.CharField(max_length=1000)


class UploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()
    public = serializers.BooleanField(default=True)


class AttachmentSerializer(ScopedModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "ticket",
            "event",
            "filename",
            "content_type",
            "size",
            "sha256",
            "is_public",
            "uploaded_by",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, obj: Attachment) -> str:
        return reverse("servicedesk-attachment-download", args=[obj.pk])


class TimelineAttachmentSerializer(serializers.ModelSerializer[Attachment]):
    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size"]


class TicketEventSerializer(serializers.ModelSerializer[TicketEvent]):
    actor_name = serializers.SerializerMethodField()
    attachments = TimelineAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = TicketEvent
        fields = [
            "id",
            "kind",
            "is_public",
            "actor",
            "actor_name",
            "body",
            "data",
            "attachments",
            "created_at",
        ]
        read_only_fields = fields

    def get_actor_name(self, obj: TicketEvent) -> str:
        return str(obj.actor) if obj.actor is not None else ""


class SlaClockSerializer(ScopedModelSerializer):
    class Meta:
        model = SlaClock
        fields = [
            "id",
            "ticket",
            "metric",
            "team",
            "state",
            "calendar",
            "target_minutes",
            "started_at",
            "elapsed_seconds",
            "wall_seconds",
            "running_since",
            "due_at",
            "warn_first_at",
            "warn_second_at",
            "warnings_sent",
            "breached",
            "breached_at",
            "stopped_at",
        ]
        read_only_fields = fields


class EscalationSerializer(ScopedModelSerializer):
    metric = serializers.CharField(source="clock.metric", read_only=True, default="")

    class Meta:
        model = Escalation
        fields = ["id", "ticket", "clock", "metric", "kind", "trigger", "actions", "created_at"]
        read_only_fields = fields


class RatingSerializer(ScopedModelSerializer):
    class Meta:
        model = Rating
        fields = ["id", "ticket", "score", "comment", "rated_by", "created_at"]
        read_only_fields = fields
