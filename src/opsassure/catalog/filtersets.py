"""Calendar filters shared by the UI list and the API."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from opsassure.catalog.models import (
    CalendarDay,
    Service,
    ServiceCalendar,
    SlaPolicy,
    WorkingInterval,
)
from opsassure.core.filtersets import ScopedFilterSet
from opsassure.core.models import Customer


def _customers(request: Any) -> QuerySet[Customer]:
    user = getattr(request, "user", None)
    return Customer.objects.visible_to(user) if user is not None else Customer.objects.none()


def _calendars(request: Any) -> QuerySet[ServiceCalendar]:
    user = getattr(request, "user", None)
    if user is None:
        return ServiceCalendar.objects.none()
    return ServiceCalendar.objects.visible_to(user)


class CalendarFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    customer = django_filters.ModelChoiceFilter(queryset=_customers, label=_("Customer"))
    provider_wide = django_filters.BooleanFilter(
        field_name="customer", lookup_expr="isnull", label=_("Provider-wide")
    )

    class Meta:
        model = ServiceCalendar
        fields = ["code", "holidays_included", "is_builtin"]

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))


class IntervalFilterSet(ScopedFilterSet):
    calendar = django_filters.ModelChoiceFilter(queryset=_calendars, label=_("Calendar"))

    class Meta:
        model = WorkingInterval
        fields = ["calendar", "weekday"]


class CalendarDayFilterSet(ScopedFilterSet):
    calendar = django_filters.ModelChoiceFilter(queryset=_calendars, label=_("Calendar"))
    year = django_filters.NumberFilter(field_name="date", lookup_expr="year", label=_("Year"))
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte", label=_("From"))
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte", label=_("Until"))

    class Meta:
        model = CalendarDay
        fields = ["calendar", "kind", "source"]


class ServiceFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    customer = django_filters.ModelChoiceFilter(queryset=_customers, label=_("Customer"))
    root = django_filters.BooleanFilter(
        field_name="parent", lookup_expr="isnull", label=_("Top level only")
    )

    class Meta:
        model = Service
        fields = ["code", "parent", "delivery_mode", "is_active", "sla_policy", "owner_team"]

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))


class SlaPolicyFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    customer = django_filters.ModelChoiceFilter(queryset=_customers, label=_("Customer"))
    calendar = django_filters.ModelChoiceFilter(queryset=_calendars, label=_("Service calendar"))

    class Meta:
        model = SlaPolicy
        fields = ["code", "is_default", "is_active"]

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))
