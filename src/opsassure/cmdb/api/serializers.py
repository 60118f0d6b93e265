from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from opsassure.cmdb import services
from opsassure.cmdb.models import (
    CIChange,
    CIType,
    ConfigurationItem,
    Location,
    MaintenanceContract,
    Relation,
    Supplier,
    Tag,
)
from opsassure.cmdb.schema import validate_schema
from opsassure.core.api.base import ScopedModelSerializer
from opsassure.core.auth import request_user


class CITypeSerializer(ScopedModelSerializer):
    display_name = serializers.SerializerMethodField()

    class Meta:
        model = CIType
        fields = [
            "id",
            "code",
            "name",
            "display_name",
            "icon",
            "is_builtin",
            "is_hardware",
            "attribute_schema",
            "required_fields",
            "sort_order",
        ]
        read_only_fields = ["is_builtin"]

    def get_display_name(self, obj: CIType) -> str:
        return str(obj)

    def validate_attribute_schema(self, value: Any) -> Any:
        return validate_schema(value)

    def validate_required_fields(self, value: Any) -> Any:
        allowed = set(services.EDITABLE_FIELDS) - {"name", "ci_type", "attributes"}
        if not isinstance(value, list) or not set(value) <= allowed:
            raise serializers.ValidationError(
                _("Choose among: %(fields)s") % {"fields": ", ".join(sorted(allowed))}
            )
        return value


class TagSerializer(ScopedModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "color"]


class SupplierSerializer(ScopedModelSerializer):
    class Meta:
        model = Supplier
        fields = ["id", "name", "contact", "phone", "email"]


class LocationSerializer(ScopedModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "customer", "parent", "kind", "name"]


class MaintenanceContractSerializer(ScopedModelSerializer):
    class Meta:
        model = MaintenanceContract
        fields = [
            "id",
            "customer",
            "supplier",
            "number",
            "service_level",
            "starts_on",
            "ends_on",
            "notes",
        ]


class _AddressesField(serializers.ListField):
    """Read from the CI's address rows; written through the service."""

    def get_attribute(self, instance: ConfigurationItem) -> list[str]:
        return [a.address for a in instance.addresses.all()]


class _TagNamesField(serializers.ListField):
    def get_attribute(self, instance: ConfigurationItem) -> list[str]:
        return [t.name for t in instance.tags.all()]


class CISerializer(ScopedModelSerializer):
    ci_type = serializers.SlugRelatedField(slug_field="code", queryset=CIType.objects.all())
    ip_addresses = _AddressesField(
        child=serializers.CharField(max_length=64), required=False, max_length=64
    )
    tags = _TagNamesField(child=serializers.CharField(max_length=50), required=False, max_length=50)

    class Meta:
        model = ConfigurationItem
        fields = [
            "id",
            "customer",
            "ci_type",
            "name",
            "status",
            "environment",
            "criticality",
            "owner_team",
            "location",
            "rack_unit",
            "hostname",
            "primary_ip",
            "ip_addresses",
            "vendor",
            "model",
            "serial_number",
            "asset_tag",
            "description",
            "attributes",
            "tags",
            "monitoring_endpoint",
            "purchase_date",
            "cost",
            "supplier",
            "warranty_end",
            "maintenance_contract",
            "depreciation_months",
            "verified_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # Uniqueness is checked by full_clean in the service, with the same message.
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = request_user(self.context["request"])
        if self.instance is not None:
            if "customer" in attrs and attrs["customer"] != self.instance.customer:
                raise serializers.ValidationError({"customer": [_("A CI cannot change customer.")]})
            return attrs
        if user.customer_id is not None:
            # Customer users create CIs of their own customer only, never shared provider CIs.
            if attrs.get("customer") is None:
                attrs["customer"] = user.customer
            elif attrs["customer"].pk != user.customer_id:
                raise serializers.ValidationError({"customer": [_("Not your customer.")]})
        return attrs

    def create(self, validated_data: dict[str, Any]) -> ConfigurationItem:
        request = self.context["request"]
        customer = validated_data.pop("customer", None)
        return services.create_ci(
            actor=request_user(request),
            customer_id=customer.pk if customer else None,
            source="api",
            **validated_data,
        )

    def update(
        self, instance: ConfigurationItem, validated_data: dict[str, Any]
    ) -> ConfigurationItem:
        request = self.context["request"]
        validated_data.pop("customer", None)
        return services.update_ci(
            instance, actor=request_user(request), source="api", **validated_data
        )


class RelationSerializer(ScopedModelSerializer):
    class Meta:
        model = Relation
        fields = ["id", "customer", "source", "target", "relation_type", "note", "created_at"]
        read_only_fields = ["customer", "created_at"]
        validators: list[Any] = []

    def create(self, validated_data: dict[str, Any]) -> Relation:
        return services.add_relation(
            actor=request_user(self.context["request"]), origin="api", **validated_data
        )


class CIChangeSerializer(serializers.ModelSerializer[CIChange]):
    class Meta:
        model = CIChange
        fields = ["id", "ci", "at", "kind", "actor", "actor_name", "source", "changes"]
        read_only_fields = fields


class BulkUpdateSerializer(serializers.Serializer[Any]):
    ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=1000)
    status = serializers.CharField(required=False, allow_blank=True)
    owner_team = serializers.IntegerField(required=False, allow_null=True)
    add_tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    remove_tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
