"""Mainland-China public holidays and 调休 working days from the ``holidays`` package.

Django-free, so the engine benchmark and tests can use it without a database.

The package (MIT) encodes the State Council's yearly notice: public holidays, days off moved
by 调休 (listed as holidays, e.g. "休息日（由 2026-01-04 调休）") and the weekend days worked
instead (``weekend_workdays``). For years whose notice it does not know yet it only
*estimates* the holidays and lists no 调休 working days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class YearSchedule:
    year: int
    holidays: dict[dt.date, str]
    workdays: list[dt.date]


def china_schedule(year: int) -> YearSchedule | None:
    """Mainland China's holidays and 调休 working days of ``year``, or None if not yet known.

    A year is "known" when the library lists its 调休 working days: every State Council
    notice since 2001 has some, and the library's estimates for later years have none.
    """
    import holidays

    calendar = holidays.country_holidays("CN", years=year, language="zh_CN")
    workdays = sorted(d for d in calendar.weekend_workdays if d.year == year)
    if not workdays:
        return None
    days = {date: str(name) for date, name in sorted(calendar.items()) if date.year == year}
    return YearSchedule(year, days, workdays)
