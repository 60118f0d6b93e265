"""CI filters shared by the UI list, the API and exports (all kept in the URL)."""

from __future__ import annotations

import ipaddress
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from opsassure.cmdb.models import (
    CIChange,
    CIType,
    ConfigurationItem,
    Criticality,
    Environment,
    Lifecycle,
    Location,
    MaintenanceContract,
    Relation,
    RelationType,
    Tag,
)
from opsassure.core.filtersets import ScopedFilterSet
from opsassure.core.models import Customer, Team


def _customers(request: Any) -> QuerySet[Customer]:
    user = getattr(request, "user", None)
    return Customer.objects.visible_to(user) if user is not None else Customer.objects.none()


def _teams(request: Any) -> QuerySet[Team]:
    user = getattr(request, "user", None)
    return Team.objects.visible_to(user) if user is not None else Team.objects.none()


class CIFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        help_text=_("Name, hostname, IP address, serial or asset tag"),
    )
    customer = django_filters.ModelChoiceFilter(queryset=_customers, label=_("Customer"))
    ci_type = django_filters.ModelChoiceFilter(
        queryset=CIType.objects.all(), label=_("Type"), to_field_name="code"
    )
    status = django_filters.MultipleChoiceFilter(choices=Lifecycle.choices, label=_("Status"))
    environment = django_filters.ChoiceFilter(choices=Environment.choices, label=_("Environment"))
    criticality = django_filters.ChoiceFilter(choices=Criticality.choices, label=_("Criticality"))
    tag = django_filters.ModelChoiceFilter(
        queryset=Tag.objects.all(), field_name="tags", to_field_name="name", label=_("Tag")
    )
    owner_team = django_filters.ModelChoiceFilter(
        queryset=_teams, to_field_name="code", label=_("Owner team")
    )
    warranty_ends_within = django_filters.NumberFilter(
        method="warranty_within", label=_("Warranty or contract ends within (days)")
    )

    class Meta:
        model = ConfigurationItem
        fields = [
            "customer",
            "ci_type",
            "status",
            "environment",
            "criticality",
            "tag",
            "owner_team",
        ]

    def search(
        self, queryset: QuerySet[ConfigurationItem], name: str, value: str
    ) -> QuerySet[ConfigurationItem]:
        value = value.strip()[:100]
        if not value:
            return queryset
        try:
            address = str(ipaddress.ip_address(value))
        except ValueError:
            address = None
        if address is not None:
            return queryset.filter(Q(primary_ip=address) | Q(addresses__address=address)).distinct()
        # Prefix matches use the indexes; a contains-match on the name catches the rest.
        return queryset.filter(
            Q(name__icontains=value)
            | Q(hostname__istartswith=value)
            | Q(serial_number__istartswith=value)
            | Q(asset_tag__istartswith=value)
        )

    def warranty_within(
        self, queryset: QuerySet[ConfigurationItem], name: str, value: Any
    ) -> QuerySet[ConfigurationItem]:
        from opsassure.cmdb.queries import expiring

        days = max(0, min(int(value), 3650))
        return expiring(queryset, days)


class RelationFilterSet(ScopedFilterSet):
    ci = django_filters.NumberFilter(method="touching", label=_("CI"))
    relation_type = django_filters.ChoiceFilter(choices=RelationType.choices)

    class Meta:
        model = Relation
        fields = ["source", "target", "relation_type"]

    def touching(self, queryset: QuerySet[Relation], name: str, value: int) -> QuerySet[Relation]:
        return queryset.filter(Q(source_id=value) | Q(target_id=value))


class CIChangeFilterSet(ScopedFilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")

    class Meta:
        model = CIChange
        fields = ["ci", "kind"]


class LocationFilterSet(ScopedFilterSet):
    class Meta:
        model = Location
        fields = ["customer", "kind", "parent"]


class ContractFilterSet(ScopedFilterSet):
    ends_before = django_filters.DateFilter(field_name="ends_on", lookup_expr="lte")

    class Meta:
        model = MaintenanceContract
        fields = ["customer", "supplier"]
