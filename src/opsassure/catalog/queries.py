"""Read side: the business-time engine of a calendar, coverage flags for lists."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from opsassure.catalog.business_time import BusinessCalendar
from opsassure.catalog.models import CalendarDay, ServiceCalendar, WorkingInterval

# Engines are cached per process, keyed on what changes them: a service bumps the
# calendar's revision on every edit of its intervals or days.
_CACHE_SIZE = 256
_cache: OrderedDict[tuple[Any, ...], BusinessCalendar] = OrderedDict()
_cache_lock = threading.Lock()


def _cache_key(calendar: ServiceCalendar) -> tuple[Any, ...]:
    return (calendar.pk, calendar.revision, calendar.time_zone, calendar.holidays_included)


def load_business_calendar(calendar: ServiceCalendar) -> BusinessCalendar:
    """Build the engine from the database (two queries); prefer ``business_calendar``."""
    rows = WorkingInterval.objects.filter(calendar=calendar).values_list(
        "weekday", "start_minute", "end_minute"
    )
    weekly: dict[int, list[tuple[int, int]]] = {}
    for weekday, start, end in rows:
        weekly.setdefault(weekday, []).append((start, end))
    holidays, workdays, closed, covered = [], [], [], set()
    for date, kind in CalendarDay.objects.filter(calendar=calendar).values_list("date", "kind"):
        if kind == CalendarDay.Kind.HOLIDAY:
            holidays.append(date)
            covered.add(date.year)
        elif kind == CalendarDay.Kind.WORKDAY:
            workdays.append(date)
            covered.add(date.year)
        else:
            closed.append(date)
    return BusinessCalendar(
        zone=calendar.time_zone,
        weekly=weekly,
        holidays=holidays,
        workdays=workdays,
        closed=closed,
        holidays_included=calendar.holidays_included,
        covered_years=covered,
    )


def business_calendar(calendar: ServiceCalendar) -> BusinessCalendar:
    """The (cached) business-time engine of ``calendar`` as of its current revision."""
    key = _cache_key(calendar)
    with _cache_lock:
        engine = _cache.get(key)
        if engine is not None:
            _cache.move_to_end(key)
            return engine
    engine = load_business_calendar(calendar)
    with _cache_lock:
        _cache[key] = engine
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return engine


def clear_engine_cache() -> None:
    """Forget every cached engine (tests: a rolled-back transaction can hand the next test a
    calendar with the same id and revision but other intervals)."""
    with _cache_lock:
        _cache.clear()


def coverage_field(year: int) -> str:
    return f"covered_{year}"


def with_coverage(queryset: QuerySet[ServiceCalendar], years: list[int]) -> QuerySet[Any]:
    """Annotate ``covered_<year>`` for each year: has the calendar holiday data for it?

    One EXISTS subquery per year, so a list page costs the same however many rows it shows.
    (Calendars that include holidays are covered regardless; see ``is_covered``.)
    """
    annotations = {
        coverage_field(year): Exists(
            CalendarDay.objects.filter(
                calendar=OuterRef("pk"),
                date__year=year,
                kind__in=[CalendarDay.Kind.HOLIDAY, CalendarDay.Kind.WORKDAY],
            )
        )
        for year in years
    }
    return queryset.annotate(**annotations)


def is_covered(calendar: ServiceCalendar, year: int) -> bool:
    """Coverage from an annotation made by ``with_coverage`` (else one query)."""
    if calendar.holidays_included:
        return True
    annotated = getattr(calendar, coverage_field(year), None)
    return bool(annotated) if annotated is not None else calendar.coverage(year)


def _policy_coverage_field(year: int) -> str:
    return f"calendar_covered_{year}"


def with_policy_calendar_coverage(queryset: QuerySet[Any], years: list[int]) -> QuerySet[Any]:
    """Annotate SLA policies with whether their calendar has holiday data for each year."""
    annotations = {
        _policy_coverage_field(year): Exists(
            CalendarDay.objects.filter(
                calendar=OuterRef("calendar"),
                date__year=year,
                kind__in=[CalendarDay.Kind.HOLIDAY, CalendarDay.Kind.WORKDAY],
            )
        )
        for year in years
    }
    return queryset.annotate(**annotations)


def policy_calendar_covered(policy: Any, year: int) -> bool:
    """Whether ``policy``'s calendar knows ``year``'s holidays (annotation, else one query)."""
    calendar: ServiceCalendar = policy.calendar
    if calendar.holidays_included:
        return True
    annotated = getattr(policy, _policy_coverage_field(year), None)
    return bool(annotated) if annotated is not None else calendar.coverage(year)
