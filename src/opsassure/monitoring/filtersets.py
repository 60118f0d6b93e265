"""Filters shared by the monitoring UI lists and the API (each on an indexed column)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from opsassure.core.filtersets import ScopedFilterSet
from opsassure.core.models import Customer
from opsassure.monitoring.models import CheckKind, CheckResult, CheckState, Monitor, ResultStatus


class MonitorFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    customer = django_filters.ModelChoiceFilter(
        label=_("Customer"), queryset=Customer.objects.order_by("name")
    )
    state = django_filters.MultipleChoiceFilter(label=_("State"), choices=CheckState.choices)
    kind = django_filters.MultipleChoiceFilter(label=_("Kind"), choices=CheckKind.choices)
    enabled = django_filters.BooleanFilter(label=_("Enabled"))

    class Meta:
        model = Monitor
        fields = ["q", "customer", "state", "kind", "enabled", "ci"]

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(Q(name__icontains=value) | Q(target__icontains=value))


class CheckResultFilterSet(ScopedFilterSet):
    since = django_filters.IsoDateTimeFilter(
        field_name="started_at", lookup_expr="gte", label=_("Since")
    )
    until = django_filters.IsoDateTimeFilter(
        field_name="started_at", lookup_expr="lt", label=_("Until")
    )
    status = django_filters.ChoiceFilter(label=_("Result"), choices=ResultStatus.choices)

    class Meta:
        model = CheckResult
        fields = ["monitor", "probe", "status", "since", "until"]
