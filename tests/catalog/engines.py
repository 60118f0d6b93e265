"""Engines for the tests, built from plain data (no database)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo

from opsassure.catalog.business_time import BusinessCalendar, seven_by_twenty_four
from opsassure.catalog.holidays_cn import china_schedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
FIVE_BY_EIGHT = {day: [(480, 720), (840, 1080)] for day in range(5)}
YEARS = (2025, 2026)


def china_days() -> tuple[set[dt.date], set[dt.date]]:
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    for year in YEARS:
        schedule = china_schedule(year)
        assert schedule is not None, f"the holidays package lost {year}"
        holidays |= set(schedule.holidays)
        workdays |= set(schedule.workdays)
    return holidays, workdays


@cache
def five_by_eight(zone: str = "Asia/Shanghai", holidays_included: bool = False) -> BusinessCalendar:
    holidays, workdays = china_days()
    return BusinessCalendar(
        zone=zone,
        weekly=FIVE_BY_EIGHT,
        holidays=holidays,
        workdays=workdays,
        holidays_included=holidays_included,
        covered_years=YEARS,
    )


@cache
def twenty_four_seven(zone: str = "Asia/Shanghai") -> BusinessCalendar:
    return seven_by_twenty_four(zone)


@cache
def night_shift(zone: str = "Europe/Berlin") -> BusinessCalendar:
    """Odd shapes: a night shift across midnight and DST hours, a short Saturday."""
    weekly = {day: [(0, 150), (420, 600), (1200, 1440)] for day in range(5)}
    weekly[5] = [(540, 555)]
    return BusinessCalendar(zone=zone, weekly=weekly, closed={dt.date(2026, 3, 30)})


def local(zone: ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)  # type: ignore[misc]
