"""Filters shared by the UI lists and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from opsassure.core.models import AuditEvent, Customer, CustomerContact, Team, User


class CustomerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))

    class Meta:
        model = Customer
        fields = ["status", "code"]

    def search(self, queryset, name, value):  # type: ignore[no-untyped-def]
        return queryset.filter(name__icontains=value) | queryset.filter(code__icontains=value)


class CustomerContactFilterSet(django_filters.FilterSet):
    class Meta:
        model = CustomerContact
        fields = ["customer", "is_primary"]


class TeamFilterSet(django_filters.FilterSet):
    class Meta:
        model = Team
        fields = ["is_active", "code"]


class UserFilterSet(django_filters.FilterSet):
    role = django_filters.CharFilter(field_name="groups__name", label=_("Role"))

    class Meta:
        model = User
        fields = ["customer", "is_active", "username"]


class AuditEventFilterSet(django_filters.FilterSet):
    occurred_after = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("From")
    )
    occurred_before = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label=_("Until")
    )
    actor = django_filters.CharFilter(field_name="actor_username", label=_("Actor"))

    class Meta:
        model = AuditEvent
        fields = ["action", "object_type", "object_id", "customer_id"]
