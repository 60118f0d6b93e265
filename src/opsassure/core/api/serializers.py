from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from opsassure.core.api.base import ScopedModelSerializer
from opsassure.core.models import ApiToken, AuditEvent, Customer, CustomerContact, Team, User


class CustomerSerializer(ScopedModelSerializer):
    class Meta:
        model = Customer
        fields = [
            "id",
            "code",
            "name",
            "short_name",
            "status",
            "industry",
            "address",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class CustomerContactSerializer(ScopedModelSerializer):
    class Meta:
        model = CustomerContact
        fields = ["id", "customer", "name", "title", "phone", "email", "is_primary"]


class TeamSerializer(ScopedModelSerializer):
    class Meta:
        model = Team
        fields = [
            "id",
            "code",
            "name",
            "description",
            "email",
            "lead",
            "members",
            "customers",
            "is_active",
        ]


class UserSerializer(ScopedModelSerializer):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "first_name",
            "last_name",
            "email",
            "customer",
            "language",
            "time_zone",
            "phone",
            "dingtalk_id",
            "wecom_id",
            "feishu_id",
            "is_active",
            "roles",
        ]
        read_only_fields = fields

    def get_roles(self, obj: User) -> list[str]:
        return sorted(group.name for group in obj.groups.all())


class ProfileSerializer(serializers.ModelSerializer[User]):
    """What a user may change about themselves."""

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "email",
            "customer",
            "language",
            "time_zone",
            "phone",
            "dingtalk_id",
            "wecom_id",
            "feishu_id",
        ]
        read_only_fields = ["id", "username", "customer"]


class ApiTokenSerializer(serializers.ModelSerializer[ApiToken]):
    prefix = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]
        read_only_fields = ["id", "prefix", "created_at", "revoked_at", "last_used_at"]

    def get_prefix(self, obj: ApiToken) -> str:
        return f"oa_{obj.key_id}_"

    def validate_expires_at(self, value: Any) -> Any:
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError(_("The expiry must be in the future."))
        return value


class IssuedTokenSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]


class AuditEventSerializer(serializers.ModelSerializer[AuditEvent]):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "seq",
            "occurred_at",
            "action",
            "actor_id",
            "actor_username",
            "object_type",
            "object_id",
            "object_repr",
            "customer_id",
            "changes",
            "ip",
            "request_id",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields
