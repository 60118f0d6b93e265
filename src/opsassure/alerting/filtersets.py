"""Filters shared by the alerting UI lists and the API (each on an indexed column)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from opsassure.alerting.models import (
    Alert,
    AlertGroup,
    AlertStatus,
    GroupState,
    Integration,
    Severity,
)
from opsassure.core.filtersets import ScopedFilterSet
from opsassure.core.models import Customer


class AlertGroupFilterSet(ScopedFilterSet):
    state = django_filters.MultipleChoiceFilter(label=_("State"), choices=GroupState.choices)
    severity = django_filters.MultipleChoiceFilter(label=_("Severity"), choices=Severity.choices)
    customer = django_filters.ModelChoiceFilter(
        label=_("Customer"), queryset=Customer.objects.order_by("name")
    )
    is_open = django_filters.BooleanFilter(label=_("Open"))
    flapping = django_filters.BooleanFilter(label=_("Flapping"))

    class Meta:
        model = AlertGroup
        fields = ["state", "severity", "customer", "is_open", "flapping", "integration"]


class AlertFilterSet(ScopedFilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=AlertStatus.choices)
    severity = django_filters.MultipleChoiceFilter(label=_("Severity"), choices=Severity.choices)
    suppressed = django_filters.BooleanFilter(label=_("Suppressed"))
    customer = django_filters.ModelChoiceFilter(
        label=_("Customer"), queryset=Customer.objects.order_by("name")
    )
    integration = django_filters.ModelChoiceFilter(
        label=_("Integration"), queryset=Integration.objects.order_by("name")
    )

    class Meta:
        model = Alert
        fields = [
            "status",
            "severity",
            "suppressed",
            "customer",
            "integration",
            "group",
            "fingerprint",
        ]
