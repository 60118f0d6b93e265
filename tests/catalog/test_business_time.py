"""The business-time engine: hand-written cases from Chinese practice, DST, and properties."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsassure.catalog.business_time import (
    BusinessCalendar,
    NoBusinessTimeError,
    format_minute,
    parse_minute,
)
from tests.catalog.engines import (
    BERLIN,
    FIVE_BY_EIGHT,
    SHANGHAI,
    five_by_eight,
    local,
    night_shift,
    twenty_four_seven,
)

UTC = dt.UTC


def deadline(engine: BusinessCalendar, start: dt.datetime, minutes: int) -> dt.datetime:
    return engine.add(start, minutes).astimezone(start.tzinfo)


# --- 5×8, Asia/Shanghai -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        # Lunch break: 11:59 + 2 min → 14:01; a deadline on an interval's end stays there.
        ((2026, 11, 25, 11, 59), 2, (2026, 11, 25, 14, 1)),
        ((2026, 11, 25, 11, 58), 2, (2026, 11, 25, 12, 0)),
        ((2026, 11, 25, 12, 30), 30, (2026, 11, 25, 14, 30)),
        # Before opening, at the opening, after closing, exactly at closing.
        ((2026, 11, 25, 7, 0), 60, (2026, 11, 25, 9, 0)),
        ((2026, 11, 25, 8, 0), 60, (2026, 11, 25, 9, 0)),
        ((2026, 11, 25, 19, 0), 1, (2026, 11, 26, 8, 1)),
        ((2026, 11, 25, 18, 0), 1, (2026, 11, 26, 8, 1)),
        # P3 at Friday 17:30 with an 8-hour target: 30 min Friday, 7.5 h Monday.
        ((2026, 11, 27, 17, 30), 8 * 60, (2026, 11, 30, 17, 30)),
        # Opened on Saturday: the clock starts Monday 08:00.
        ((2026, 11, 28, 10, 0), 30, (2026, 11, 30, 8, 30)),
        # Five working days from Monday 08:00 end on Friday 18:00 (not Monday 08:00).
        ((2026, 11, 23, 8, 0), 5 * 8 * 60, (2026, 11, 27, 18, 0)),
        # Eve of 国庆 2025 (Oct 1–8 off, Sat Oct 11 worked): 1 h Tuesday, then Thursday Oct 9.
        ((2025, 9, 30, 17, 0), 120, (2025, 10, 9, 9, 0)),
        # The 调休 Sunday before 国庆 2025 (Sep 28) is a working day with 5×8 hours.
        ((2025, 9, 26, 17, 0), 4 * 60, (2025, 9, 28, 11, 0)),
        ((2025, 9, 27, 10, 0), 60, (2025, 9, 28, 9, 0)),
        # 国庆 2026: Oct 1–7 off, Oct 8/9 worked, Saturday Oct 10 is a 调休 working day.
        ((2026, 9, 30, 16, 0), 8 * 60, (2026, 10, 8, 16, 0)),
        ((2026, 9, 30, 16, 0), 24 * 60, (2026, 10, 10, 16, 0)),
        # 春节 2026: Friday Feb 13 17:00, Saturday Feb 14 is worked, Feb 15–23 off.
        ((2026, 2, 13, 17, 0), 120, (2026, 2, 14, 9, 0)),
        ((2026, 2, 14, 17, 0), 120, (2026, 2, 24, 9, 0)),
        # Across New Year: Jan 1–2 2026 off, Sunday Jan 4 worked.
        ((2025, 12, 31, 17, 0), 120, (2026, 1, 4, 9, 0)),
    ],
)
def test_five_by_eight_deadlines(
    start: tuple[int, ...], minutes: int, expected: tuple[int, ...]
) -> None:
    engine = five_by_eight()
    begin = local(SHANGHAI, *start)
    result = deadline(engine, begin, minutes)
    assert result == local(SHANGHAI, *expected)
    assert result.tzinfo is SHANGHAI
    assert engine.add(begin, minutes).utcoffset() == dt.timedelta(0)
    assert engine.elapsed(begin, result) == minutes * 60


def test_holidays_included_work_through_national_day() -> None:
    engine = five_by_eight(holidays_included=True)
    assert deadline(engine, local(SHANGHAI, 2025, 9, 30, 17, 0), 120) == local(
        SHANGHAI, 2025, 10, 1, 9, 0
    )
    # ...and the 调休 Sunday is then an ordinary Sunday.
    assert deadline(engine, local(SHANGHAI, 2025, 9, 26, 17, 0), 120) == local(
        SHANGHAI, 2025, 9, 29, 9, 0
    )
    assert engine.coverage(2031) is True


def test_closed_days_apply_even_when_holidays_are_included() -> None:
    engine = BusinessCalendar(
        zone="Asia/Shanghai",
        weekly=FIVE_BY_EIGHT,
        holidays={dt.date(2026, 12, 1)},
        closed={dt.date(2026, 12, 2)},
        holidays_included=True,
    )
    start = local(SHANGHAI, 2026, 11, 30, 17, 0)
    assert deadline(engine, start, 120) == local(SHANGHAI, 2026, 12, 1, 9, 0)
    assert deadline(engine, start, 9 * 60 + 60) == local(SHANGHAI, 2026, 12, 3, 9, 0)
    assert engine.business_seconds_on(dt.date(2026, 12, 2)) == 0


def test_zero_minutes_is_the_start_even_outside_working_time() -> None:
    engine = five_by_eight()
    start = local(SHANGHAI, 2026, 11, 28, 3, 7, 9, 123)
    assert engine.add(start, 0) == start


def test_elapsed_counts_only_working_time() -> None:
    engine = five_by_eight()
    # Friday 17:00 → Monday 09:00: 1 h Friday + 1 h Monday.
    assert (
        engine.elapsed(local(SHANGHAI, 2026, 11, 27, 17), local(SHANGHAI, 2026, 11, 30, 9)) == 7200
    )
    # A pause over 国庆 2025 costs nothing: Sep 30 18:00 → Oct 9 08:00.
    assert engine.elapsed(local(SHANGHAI, 2025, 9, 30, 18), local(SHANGHAI, 2025, 10, 9, 8)) == 0
    # 2026: 261 weekdays - 19 holidays on weekdays + 6 调休 days = 248 working days of 8 h.
    year = engine.elapsed(local(SHANGHAI, 2026, 1, 1), local(SHANGHAI, 2027, 1, 1))
    assert year == 248 * 8 * 3600
    assert engine.elapsed(local(SHANGHAI, 2026, 5, 6, 10), local(SHANGHAI, 2026, 5, 6, 10)) == 0


def test_a_year_without_data_falls_back_to_plain_weekdays() -> None:
    engine = five_by_eight()
    assert (engine.coverage(2025), engine.coverage(2026), engine.coverage(2027)) == (
        True,
        True,
        False,
    )
    # 2027-01-01 is a Friday: without holiday data it counts as a working day.
    assert deadline(engine, local(SHANGHAI, 2026, 12, 31, 17, 0), 120) == local(
        SHANGHAI, 2027, 1, 1, 9, 0
    )


def test_bad_arguments_are_refused() -> None:
    engine = five_by_eight()
    with pytest.raises(ValueError, match="negative"):
        engine.add(local(SHANGHAI, 2026, 1, 5, 9), -1)
    with pytest.raises(ValueError, match="aware"):
        engine.add(dt.datetime(2026, 1, 5, 9), 10)
    with pytest.raises(ValueError, match="before"):
        engine.elapsed(local(SHANGHAI, 2026, 1, 5, 9), local(SHANGHAI, 2026, 1, 5, 8))
    with pytest.raises(ValueError, match="overlap"):
        BusinessCalendar(zone="UTC", weekly={0: [(480, 720), (700, 800)]})
    with pytest.raises(ValueError, match="invalid interval"):
        BusinessCalendar(zone="UTC", weekly={0: [(480, 1441)]})
    with pytest.raises(ValueError, match="weekdays"):
        BusinessCalendar(zone="UTC", weekly={7: [(0, 60)]})


def test_a_calendar_without_working_time_raises_instead_of_looping() -> None:
    engine = BusinessCalendar(zone="Asia/Shanghai", weekly={})
    assert engine.has_business_time is False
    with pytest.raises(NoBusinessTimeError):
        engine.add(local(SHANGHAI, 2026, 1, 5, 9), 1)


# --- midnight, 24:00, 7×24 ----------------------------------------------------------------


def test_seven_by_twenty_four_is_wall_time() -> None:
    engine = twenty_four_seven()
    start = local(SHANGHAI, 2026, 9, 30, 23, 59, 30)
    assert engine.add(start, 1) == start + dt.timedelta(minutes=1)
    assert engine.add(start, 14 * 24 * 60) == start + dt.timedelta(days=14)
    assert engine.elapsed(start, start + dt.timedelta(days=3, seconds=5)) == 3 * 86400 + 5


def test_night_shift_across_midnight() -> None:
    engine = night_shift(zone="Asia/Shanghai")
    # Monday 23:30 + 60 min: 30 min until 24:00, 30 min from Tuesday 00:00.
    assert deadline(engine, local(SHANGHAI, 2026, 11, 23, 23, 30), 60) == local(
        SHANGHAI, 2026, 11, 24, 0, 30
    )
    # A deadline exactly at 24:00 is midnight of the next day.
    assert deadline(engine, local(SHANGHAI, 2026, 11, 23, 23, 30), 30) == local(
        SHANGHAI, 2026, 11, 24, 0, 0
    )
    # Friday 23:00 + 90 min: 60 min Friday night, then Saturday 09:00–09:15, then Monday.
    assert deadline(engine, local(SHANGHAI, 2026, 11, 27, 23, 0), 90) == local(
        SHANGHAI, 2026, 11, 30, 0, 15
    )


# --- daylight saving time (Europe/Berlin) ---------------------------------------------------


def test_berlin_five_by_eight_across_spring_forward() -> None:
    engine = five_by_eight(zone="Europe/Berlin")
    # Friday 2026-03-27 17:30 CET + 60 min → Monday 08:30 CEST (06:30 UTC).
    result = engine.add(local(BERLIN, 2026, 3, 27, 17, 30), 60)
    assert result == dt.datetime(2026, 3, 30, 6, 30, tzinfo=UTC)
    assert result.astimezone(BERLIN).hour == 8


def test_berlin_day_lengths_follow_dst() -> None:
    engine = twenty_four_seven("Europe/Berlin")
    assert engine.business_seconds_on(dt.date(2026, 3, 29)) == 23 * 3600
    assert engine.business_seconds_on(dt.date(2026, 10, 25)) == 25 * 3600
    assert (
        engine.elapsed(local(BERLIN, 2026, 3, 28, 12), local(BERLIN, 2026, 3, 29, 12)) == 23 * 3600
    )
    assert (
        engine.elapsed(local(BERLIN, 2026, 10, 24, 12), local(BERLIN, 2026, 10, 25, 12))
        == 25 * 3600
    )
    start = dt.datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert engine.add(start, 24 * 60) == start + dt.timedelta(hours=24)


def test_berlin_night_shift_on_dst_days() -> None:
    engine = night_shift()
    assert engine.business_seconds_on(dt.date(2026, 3, 30)) == 0  # a closed day
    assert engine.business_seconds_on(dt.date(2026, 10, 23)) == int(9.5 * 3600)
    weird = BusinessCalendar(zone="Europe/Berlin", weekly={6: [(60, 150)]})  # Sun 01:00–02:30
    # 2026-03-29: 02:00–03:00 does not exist, so 01:00–02:30 is one real hour.
    assert weird.business_seconds_on(dt.date(2026, 3, 29)) == 3600
    # 2026-10-25: 02:00–03:00 happens twice, so 01:00–02:30 is 1.5 h + 0.5 h again.
    assert weird.business_seconds_on(dt.date(2026, 10, 25)) == 2 * 3600
    start = local(BERLIN, 2026, 10, 25, 1, 0)  # 23:00 UTC the day before
    assert weird.add(start, 90) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert weird.add(start, 91) == dt.datetime(2026, 10, 25, 1, 1, tzinfo=UTC)
    assert weird.add(start, 120) == dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert weird.elapsed(start, dt.datetime(2026, 10, 25, 3, 0, tzinfo=UTC)) == 2 * 3600


# --- helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "minute"), [("00:00", 0), ("08:30", 510), ("24:00", 1440)])
def test_time_of_day_round_trip(text: str, minute: int) -> None:
    assert parse_minute(text) == minute
    assert format_minute(minute) == text


@pytest.mark.parametrize("text", ["24:01", "8", "08:60", "ab:cd", "25:00", "08:30:15", ""])
def test_time_of_day_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match=r"time of day|whole minutes"):
        parse_minute(text)


# --- properties -------------------------------------------------------------------------------

ENGINES = {
    "5x8 Shanghai": five_by_eight,
    "5x8 Berlin": lambda: five_by_eight(zone="Europe/Berlin"),
    "7x24 Berlin": lambda: twenty_four_seven("Europe/Berlin"),
    "night shift Berlin": night_shift,
}
instants = st.datetimes(
    min_value=dt.datetime(2025, 1, 1),
    max_value=dt.datetime(2026, 12, 20),
    timezones=st.just(UTC),
)
targets = st.integers(min_value=0, max_value=5 * 8 * 60 * 2)
engines = st.sampled_from(sorted(ENGINES))
PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(name=engines, start=instants, minutes=targets)
def test_elapsed_to_the_deadline_is_the_target(name: str, start: dt.datetime, minutes: int) -> None:
    engine = ENGINES[name]()
    end = engine.add(start, minutes)
    assert end >= start
    assert engine.elapsed(start, end) == minutes * 60


@PROPERTY_SETTINGS
@given(name=engines, start=instants, first=targets, second=targets)
def test_deadlines_grow_with_the_target(
    name: str, start: dt.datetime, first: int, second: int
) -> None:
    engine = ENGINES[name]()
    low, high = sorted((first, second))
    assert engine.add(start, low) <= engine.add(start, high)
    if low < high:
        assert engine.add(start, low) < engine.add(start, high)


@PROPERTY_SETTINGS
@given(name=engines, start=instants, minutes=st.integers(min_value=1, max_value=4800))
def test_a_deadline_lies_in_working_time(name: str, start: dt.datetime, minutes: int) -> None:
    engine = ENGINES[name]()
    end = engine.add(start, minutes)
    # Working time runs up to the deadline: the instant just before it is inside an interval.
    assert engine.is_open(end - dt.timedelta(microseconds=1))
    day = (end - dt.timedelta(microseconds=1)).astimezone(engine.zone).date()
    if not engine.holidays_included:
        assert day not in engine.holidays
    assert day not in engine.closed


@PROPERTY_SETTINGS
@given(
    name=engines,
    start=instants,
    gaps=st.tuples(st.integers(0, 10 * 86400), st.integers(0, 10 * 86400)),
)
def test_elapsed_adds_up(name: str, start: dt.datetime, gaps: tuple[int, int]) -> None:
    engine = ENGINES[name]()
    start = start.replace(microsecond=0)
    middle = start + dt.timedelta(seconds=gaps[0])
    end = middle + dt.timedelta(seconds=gaps[1])
    assert engine.elapsed(start, end) == engine.elapsed(start, middle) + engine.elapsed(middle, end)
    assert engine.elapsed(start, end) <= (end - start).total_seconds()


@settings(max_examples=150, deadline=None)
@given(
    name=engines,
    start=instants.map(lambda t: t.replace(second=0, microsecond=0)),
    minutes=st.integers(min_value=1, max_value=600),
)
def test_add_agrees_with_a_minute_by_minute_walk(
    name: str, start: dt.datetime, minutes: int
) -> None:
    """An independent oracle: step through wall-clock minutes and count the working ones."""
    engine = ENGINES[name]()
    instant, counted = start, 0
    while True:
        wall = instant.astimezone(engine.zone)
        minute_of_day = wall.hour * 60 + wall.minute
        if any(a <= minute_of_day < b for a, b in engine.day_intervals(wall.date())):
            counted += 1
        instant += dt.timedelta(minutes=1)
        if counted == minutes:
            break
    assert engine.add(start, minutes) == instant


def test_seven_by_twenty_four_is_plain_addition_everywhere() -> None:
    engine = twenty_four_seven("Europe/Berlin")
    start = dt.datetime(2026, 3, 29, 0, 59, 59, 999_999, tzinfo=UTC)
    for minutes in (1, 59, 61, 60 * 24 * 200):
        assert engine.add(start, minutes) == start + dt.timedelta(minutes=minutes)
