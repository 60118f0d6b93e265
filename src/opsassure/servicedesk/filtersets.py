"""Ticket filters shared by the queue views and the API (all kept in the URL).

Every filter is a plain column condition on an indexed column (status, priority, team,
assignee, customer, the deadlines), so a queue page stays an index range scan.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsassure.catalog.models import Priority
from opsassure.core.filtersets import ScopedFilterSet
from opsassure.core.models import Customer, Team, User
from opsassure.servicedesk.models import (
    OPEN_STATUSES,
    Channel,
    SlaClock,
    Ticket,
    TicketKind,
    TicketStatus,
)


def breaching_soon(queryset: QuerySet[Ticket], now: dt.datetime | None = None) -> QuerySet[Ticket]:
    """Open tickets with a running SLA clock past the policy's first warning threshold (or
    already late). The one definition, for the UI queue and the API filter alike; paused
    (pending) clocks have no deadline and are never "breaching soon"."""
    # Driven from the clocks (``sd_clock_warn_idx``: a short range), not a per-ticket EXISTS
    # over every open ticket of the caller's customers.
    soon = SlaClock.objects.filter(
        team__isnull=True,
        state=SlaClock.State.RUNNING,
        warn_first_at__lte=now or timezone.now(),
    ).values("ticket_id")
    return queryset.filter(pk__in=soon, status__in=OPEN_STATUSES)


def _customers(request: Any) -> QuerySet[Customer]:
    user = getattr(request, "user", None)
    return Customer.objects.visible_to(user) if user is not None else Customer.objects.none()


def _teams(request: Any) -> QuerySet[Team]:
    user = getattr(request, "user", None)
    return Team.objects.visible_to(user) if user is not None else Team.objects.none()


def _staff(request: Any) -> QuerySet[User]:
    user = getattr(request, "user", None)
    if user is None:
        return User.objects.none()
    return User.objects.visible_to(user).filter(customer__isnull=True)


class TicketFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(
        method="search", label=_("Search"), help_text=_("Ticket number or words of the title")
    )
    status = django_filters.MultipleChoiceFilter(
        choices=TicketStatus.choices, label=_("Status"), distinct=False
    )
    open = django_filters.BooleanFilter(method="open_only", label=_("Open tickets only"))
    priority = django_filters.MultipleChoiceFilter(
        choices=Priority.choices, label=_("Priority"), distinct=False
    )
    kind = django_filters.ChoiceFilter(choices=TicketKind.choices, label=_("Type"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))
    customer = django_filters.ModelChoiceFilter(queryset=_customers, label=_("Customer"))
    team = django_filters.ModelChoiceFilter(queryset=_teams, label=_("Team"))
    assignee = django_filters.ModelChoiceFilter(queryset=_staff, label=_("Assignee"))
    unassigned = django_filters.BooleanFilter(
        field_name="assignee", lookup_expr="isnull", label=_("Unassigned")
    )
    breaching_soon = django_filters.BooleanFilter(
        method="filter_breaching_soon", label=_("Breaching soon")
    )
    sla_breached = django_filters.BooleanFilter(label=_("SLA breached"))
    is_major = django_filters.BooleanFilter(label=_("Major incident"))
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label=_("Opened from")
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label=_("Opened before")
    )

    class Meta:
        model = Ticket
        fields = [
            "status",
            "priority",
            "kind",
            "channel",
            "customer",
            "team",
            "assignee",
            "sla_breached",
            "is_major",
        ]

    def search(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        value = value.strip()
        if not value:
            return queryset
        if value[:4].upper() in {"INC-", "REQ-"}:
            return queryset.filter(number__startswith=value.upper())
        return queryset.filter(title__icontains=value)

    def open_only(self, queryset: QuerySet[Ticket], name: str, value: bool) -> QuerySet[Ticket]:
        if value is None:
            return queryset
        if value:
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.exclude(status__in=OPEN_STATUSES)

    def filter_breaching_soon(
        self, queryset: QuerySet[Ticket], name: str, value: bool
    ) -> QuerySet[Ticket]:
        return breaching_soon(queryset) if value else queryset


class SlaClockFilterSet(ScopedFilterSet):
    breached = django_filters.BooleanFilter(label=_("Breached"))

    class Meta:
        model = SlaClock
        fields = ["ticket", "metric", "state", "breached"]
