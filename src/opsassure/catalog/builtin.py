"""The calendars OpsAssure ships with, seeded with mainland-China public holidays.

We seed a year only when the ``holidays`` package knows the State Council's notice for it
(see ``holidays_cn``): an estimate that moves a deadline silently is worse than a year
without data, which falls back to plain weekdays and shows a warning until an admin enters
or imports the days.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from opsassure.catalog import services
from opsassure.catalog.holidays_cn import YearSchedule, china_schedule
from opsassure.catalog.models import CalendarDay, ServiceCalendar

logger = logging.getLogger(__name__)

ADJUSTED_WORKDAY_NAME = "调休上班"
FIVE_BY_EIGHT_INTERVALS = [
    (weekday, start, end) for weekday in range(5) for start, end in ((480, 720), (840, 1080))
]
SEVEN_BY_TWENTY_FOUR_INTERVALS = [(weekday, 0, 1440) for weekday in range(7)]


@dataclass(frozen=True)
class BuiltinCalendar:
    code: str
    name: str
    description: str
    holidays_included: bool
    intervals: list[tuple[int, int, int]]


BUILTINS = [
    BuiltinCalendar(
        code="7x24",
        name="7×24",
        description="全天候服务：每天 00:00–24:00，节假日照常。Every day around the clock.",
        holidays_included=True,
        intervals=SEVEN_BY_TWENTY_FOUR_INTERVALS,
    ),
    BuiltinCalendar(
        code="5x8",
        name="5×8",
        description=(
            "工作日 08:00–12:00、14:00–18:00，法定节假日除外，调休上班日照常。"
            "Working days 08:00–12:00 and 14:00–18:00; public holidays excluded, "
            "adjusted working days (调休) included."
        ),
        holidays_included=False,
        intervals=FIVE_BY_EIGHT_INTERVALS,
    ),
]


def schedule_entries(schedule: YearSchedule) -> dict[dt.date, tuple[str, str]]:
    """``{date: (kind, name)}`` rows of one year's schedule."""
    result = {
        date: (str(CalendarDay.Kind.HOLIDAY), name) for date, name in schedule.holidays.items()
    }
    for date in schedule.workdays:
        result[date] = (str(CalendarDay.Kind.WORKDAY), ADJUSTED_WORKDAY_NAME)
    return result


@dataclass
class SeedResult:
    seeded_years: list[int]
    missing_years: list[int]
    changes: services.DayChanges


def seed_public_holidays(calendar: ServiceCalendar, years: list[int]) -> SeedResult:
    """Seed mainland-China holidays and 调休 days of ``years`` into ``calendar`` (idempotent).

    Rows entered by hand or imported are never touched; seeded rows follow the library
    (updated, or removed when the library no longer lists them).
    """
    entries: dict[dt.date, tuple[str, str]] = {}
    seeded, missing = [], []
    for year in sorted(set(years)):
        schedule = china_schedule(year)
        if schedule is None:
            missing.append(year)
            continue
        seeded.append(year)
        entries.update(schedule_entries(schedule))
    seeded_source = Q(source=CalendarDay.Source.SEEDED)
    with transaction.atomic():
        locked = ServiceCalendar.objects.select_for_update().get(pk=calendar.pk)
        changes = services.write_days(
            locked,
            entries,
            source=CalendarDay.Source.SEEDED,
            overwrite=seeded_source,
            remove=seeded_source & Q(date__year__in=seeded) if seeded else None,
            reason="seeded from the holidays library",
        )
    if missing and not calendar.holidays_included:
        logger.warning(
            "calendar %s: no holiday data for %s (plain weekdays until entered or imported)",
            calendar.code,
            ", ".join(map(str, missing)),
        )
    return SeedResult(seeded, missing, changes)


def default_years(today: dt.date | None = None) -> list[int]:
    """The current year ± 1 (in the installation's time zone)."""
    if today is None:
        today = timezone.now().astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()
    return [today.year - 1, today.year, today.year + 1]


def seed_builtin_calendars(years: list[int] | None = None, **_: Any) -> dict[str, SeedResult]:
    """Create 7×24 and 5×8 if missing and seed their holidays (post_migrate; idempotent).

    Intervals are written only when a calendar is created: an admin's later edits stay.
    """
    if years is None:
        years = default_years()
    results = {}
    for spec in BUILTINS:
        with transaction.atomic():
            calendar = ServiceCalendar.objects.filter(customer=None, code=spec.code).first()
            if calendar is None:
                calendar = services.create_calendar(
                    customer=None,
                    code=spec.code,
                    name=spec.name,
                    time_zone="Asia/Shanghai",
                    description=spec.description,
                    holidays_included=spec.holidays_included,
                    intervals=spec.intervals,
                )
                ServiceCalendar.objects.filter(pk=calendar.pk).update(is_builtin=True)
        results[spec.code] = seed_public_holidays(calendar, years)
    return results
