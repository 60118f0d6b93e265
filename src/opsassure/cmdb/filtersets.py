"""CI filters shared by the UI list, the API and exports (all kept in the URL)."""

from __future__ import annotations

import ipaddress
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from opsassure.cmdb.models import (
    CIAddress,
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


# At most this many ids go into the list query as literals (see CIFilterSet.search).
PREFIX_ID_LIMIT = 2000


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
    # distinct=False: a plain column filter cannot duplicate rows, and DISTINCT over every
    # column (and COUNT(*) of it) cost ~100 ms at 100,000 CIs.
    status = django_filters.MultipleChoiceFilter(
        choices=Lifecycle.choices, label=_("Status"), distinct=False
    )
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
        """IP address: exact. Text: prefix of name, hostname, serial or asset tag, else in names.

        Prefix lookups use the case-insensitive indexes of migration 0002. A text that starts
        nothing (an English word in the middle of "门诊挂号 Outpatient registration") is looked
        for inside names, and so is Chinese text, whose words sit inside compound names — a
        scan, acceptable at 100,000 CIs (see bench/cmdb.py) and only for these searches.
        """
        value = value.strip()[:100]
        if not value:
            return queryset
        try:
            address = str(ipaddress.ip_address(value))
        except ValueError:
            address = None
        if address is not None:
            # A subquery, not a join: no duplicate rows, so no DISTINCT over every column.
            # The primary IP is one of the CI's address rows too (services keep it so); an OR
            # with primary_ip would make PostgreSQL scan every CI.
            holders = CIAddress.objects.filter(address=address).values("ci_id")
            return queryset.filter(pk__in=holders)
        inside_names = queryset.filter(name__icontains=value)
        if not value.isascii():
            return inside_names
        prefix = (
            Q(name__istartswith=value)
            | Q(hostname__istartswith=value)
            | Q(serial_number__istartswith=value)
            | Q(asset_tag__istartswith=value)
        )
        # The matching ids first, as literals: the four prefix indexes find them at once. As a
        # subquery, the planners walk the whole list order instead — PostgreSQL the (name, id)
        # index testing each row against the prefix (300+ ms at 100,000 CIs for a prefix late
        # in the alphabet), SQLite a customer's (customer, name) index. A prefix that matches
        # very many CIs ("vm-") is dense in that order, so walking it is the cheap plan there.
        ids = list(queryset.filter(prefix).values_list("pk", flat=True)[: PREFIX_ID_LIMIT + 1])
        if not ids:
            return inside_names
        if len(ids) <= PREFIX_ID_LIMIT:
            return queryset.filter(pk__in=ids)
        return queryset.filter(pk__in=ConfigurationItem.objects.filter(prefix).values("pk"))

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
