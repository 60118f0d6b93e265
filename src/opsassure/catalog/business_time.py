"""Business time on a service calendar: SLA deadlines and elapsed working time.

Pure Python — no Django, no database. A ``BusinessCalendar`` is built once from plain data
(``catalog.queries.business_calendar`` loads it from a ``ServiceCalendar``) and then answers

- ``add(start, minutes)``: the instant at which ``minutes`` of business time have passed
  since ``start`` (an SLA deadline), and
- ``elapsed(start, end)``: the business seconds between two instants (pause/resume, KPIs).

How it works. Working intervals are wall-clock times in the calendar's zone: an instant is
business time when its local wall time lies in an interval of its local date. For each date
the engine turns that rule into UTC spans (integer microseconds since the epoch, so results
are exact), which is where daylight saving is handled: a DST day has 23 or 25 real hours, a
wall time that does not exist is not worked and a repeated hour is worked twice. Per local
year it keeps the days' spans plus a running total of business time at the start of every
day. ``add`` then bisects that running total, so a deadline costs O(log days) no matter how
many weeks, weekends or holiday blocks it spans (the cheaper cousin of "skip whole weeks");
``elapsed`` is a difference of two positions on it. Years are built lazily and cached.

Rules for a date (``day_intervals``):

- ``closed`` dates have no business time, always (the calendar owner's own closures);
- with ``holidays_included`` the national schedule is ignored: only the weekly intervals
  (and closed dates) count — "service on public holidays too" in a contract;
- otherwise a public holiday has no business time, and an adjusted working day (调休, a
  weekend day worked instead of a holiday) gets the standard working day's intervals (those
  of Monday, or of the first weekday that has any) unless its weekday has intervals anyway;
- every other date gets the intervals of its weekday.
"""

from __future__ import annotations

import datetime as dt
import itertools
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

MICROS_PER_SECOND = 1_000_000
MICROS_PER_MINUTE = 60 * MICROS_PER_SECOND
MINUTES_PER_DAY = 24 * 60
# add() gives up after walking this many calendar years without reaching the target: only a
# calendar with (almost) no business time at all gets there.
MAX_YEARS_SEARCHED = 60

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_MICRO = dt.timedelta(microseconds=1)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

Interval = tuple[int, int]  # (start minute, end minute) of a local day; end may be 1440
Span = tuple[int, int]  # (start, end) in microseconds since the epoch (UTC)


class NoBusinessTimeError(ValueError):
    """The calendar has no business time (within ``MAX_YEARS_SEARCHED`` years)."""


def to_micros(instant: dt.datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact integer arithmetic)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("business time needs an aware datetime (with a time zone)")
    return (instant - _EPOCH) // _ONE_MICRO


def from_micros(micros: int) -> dt.datetime:
    """The aware UTC datetime ``micros`` microseconds after the epoch."""
    return _EPOCH + dt.timedelta(microseconds=micros)


def normalise_intervals(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sorted intervals of one day; refuses empty, out-of-day and overlapping ones."""
    ordered = sorted((int(start), int(end)) for start, end in intervals)
    for start, end in ordered:
        if not 0 <= start < end <= MINUTES_PER_DAY:
            raise ValueError(f"invalid interval {start}–{end} (minutes of the day)")
    for (_, previous_end), (start, _) in itertools.pairwise(ordered):
        if start < previous_end:
            raise ValueError("working intervals of one day overlap")
    return tuple(ordered)


@dataclass(slots=True)
class _Year:
    """One local calendar year: each day's UTC spans and the running business total."""

    first_ordinal: int
    spans: list[tuple[Span, ...]]
    cumulative: list[int]  # business micros before day i; len(spans) + 1 entries

    @property
    def total(self) -> int:
        return self.cumulative[-1]

    def position(self, ordinal: int, micros: int) -> int:
        """Business micros from the start of the year to ``micros`` (on local day ``ordinal``)."""
        index = ordinal - self.first_ordinal
        done = self.cumulative[index]
        for start, end in self.spans[index]:
            if micros <= start:
                break
            done += (micros if micros < end else end) - start
        return done

    def instant_at(self, target: int) -> int:
        """The earliest instant at which ``target`` (> 0) business micros of the year are done."""
        index = bisect_left(self.cumulative, target) - 1
        remaining = target - self.cumulative[index]
        for start, end in self.spans[index]:
            length = end - start
            if remaining <= length:
                return start + remaining
            remaining -= length
        raise AssertionError("running total and spans disagree")  # pragma: no cover


class BusinessCalendar:
    """A service calendar as a value object: weekly intervals, special dates, a zone.

    ``weekly`` maps weekday (0 = Monday … 6 = Sunday) to intervals in minutes of the local
    day, e.g. ``{0: [(480, 720), (840, 1080)], …}`` for 08:00–12:00 and 14:00–18:00; an end
    of 1440 means 24:00. ``covered_years`` are the years for which the national holiday
    schedule is known; see ``coverage``.
    """

    def __init__(
        self,
        *,
        zone: str | ZoneInfo,
        weekly: Mapping[int, Iterable[Interval]],
        holidays: Iterable[dt.date] = (),
        workdays: Iterable[dt.date] = (),
        closed: Iterable[dt.date] = (),
        holidays_included: bool = False,
        covered_years: Iterable[int] = (),
    ) -> None:
        self.zone = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
        if set(weekly) - set(range(7)):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        self.weekly: tuple[tuple[Interval, ...], ...] = tuple(
            normalise_intervals(weekly.get(day, ())) for day in range(7)
        )
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.closed = frozenset(closed)
        self.holidays_included = holidays_included
        self.covered_years = frozenset(covered_years)
        self.standard_day: tuple[Interval, ...] = next(
            (self.weekly[day] for day in (0, 1, 2, 3, 4, 5, 6) if self.weekly[day]), ()
        )
        self._years: dict[int, _Year] = {}

    # --- calendar rules ---------------------------------------------------------------------

    def day_intervals(self, day: dt.date) -> tuple[Interval, ...]:
        """The working intervals (minutes of the local day) that apply on ``day``."""
        if day in self.closed:
            return ()
        weekly = self.weekly[day.weekday()]
        if self.holidays_included:
            return weekly
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return weekly or self.standard_day
        return weekly

    def coverage(self, year: int) -> bool:
        """Whether the holidays and adjusted working days of ``year`` are known.

        Without them the calendar falls back to plain weekdays for that year — it still
        answers, but the answer may count a public holiday as working time.
        """
        return self.holidays_included or year in self.covered_years

    @property
    def has_business_time(self) -> bool:
        return any(self.weekly) or (bool(self.workdays) and bool(self.standard_day))

    # --- the two questions ------------------------------------------------------------------

    def add(self, start: dt.datetime, minutes: int) -> dt.datetime:
        """The deadline ``minutes`` of business time after ``start`` (aware; returned in UTC).

        A clock started outside working time starts at the next interval; a deadline that
        falls exactly on the end of an interval is that end (11:58 + 2 min → 12:00, not
        14:00). ``minutes == 0`` returns ``start`` unchanged.
        """
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        micros = to_micros(start)
        if minutes == 0:
            return start.astimezone(dt.UTC)
        year, done = self._position(micros)
        target = done + minutes * MICROS_PER_MINUTE
        for _ in range(MAX_YEARS_SEARCHED):
            chunk = self._year(year)
            if target <= chunk.total:
                return from_micros(chunk.instant_at(target))
            target -= chunk.total
            year += 1
        raise NoBusinessTimeError("the calendar has no business time to reach the target")

    def add_seconds(self, start: dt.datetime, seconds: Sequence[int]) -> list[dt.datetime]:
        """Deadlines ``seconds[i]`` business seconds after ``start`` (aware; UTC), same rules
        as ``add`` but to the second, and with one position lookup for all of them (an SLA
        clock's warnings and deadline). A value <= 0 gives ``start`` unchanged.

        The hot path of SLA planning: a target inside the start's year (nearly all of them)
        is found inline — one bisection of the running total, then the day's spans."""
        micros = to_micros(start)
        year, done = self._position(micros)
        chunk = self._year(year)
        total, cumulative, spans = chunk.cumulative[-1], chunk.cumulative, chunk.spans
        results: list[dt.datetime] = []
        for value in seconds:
            if value <= 0:
                results.append(start.astimezone(dt.UTC))
                continue
            target = done + value * MICROS_PER_SECOND
            if target > total:
                results.append(self._later_year(year + 1, target - total))
                continue
            index = bisect_left(cumulative, target) - 1
            remaining = target - cumulative[index]
            for span_start, span_end in spans[index]:
                length = span_end - span_start
                if remaining <= length:
                    results.append(_EPOCH + dt.timedelta(microseconds=span_start + remaining))
                    break
                remaining -= length
            else:  # pragma: no cover
                raise AssertionError("running total and spans disagree")
        return results

    def _later_year(self, year: int, target: int) -> dt.datetime:
        """The instant ``target`` business micros after the start of local ``year``."""
        for _ in range(MAX_YEARS_SEARCHED):
            chunk = self._year(year)
            if target <= chunk.total:
                return from_micros(chunk.instant_at(target))
            target -= chunk.total
            year += 1
        raise NoBusinessTimeError("the calendar has no business time to reach the target")

    def elapsed(self, start: dt.datetime, end: dt.datetime) -> int:
        """Whole seconds of business time between ``start`` and ``end`` (``end >= start``)."""
        first, last = to_micros(start), to_micros(end)
        if last < first:
            raise ValueError("end is before start")
        first_year, first_done = self._position(first)
        last_year, last_done = self._position(last)
        total = last_done - first_done
        for year in range(first_year, last_year):
            total += self._year(year).total
        return total // MICROS_PER_SECOND

    def is_open(self, instant: dt.datetime) -> bool:
        """Whether ``instant`` lies inside a working interval (start included, end excluded)."""
        micros = to_micros(instant)
        day = self._local_date(micros)
        chunk = self._year(day.year)
        spans = chunk.spans[day.toordinal() - chunk.first_ordinal]
        return any(start <= micros < end for start, end in spans)

    def business_seconds_on(self, day: dt.date) -> int:
        """Real seconds of business time on the local date ``day`` (DST-aware)."""
        chunk = self._year(day.year)
        index = day.toordinal() - chunk.first_ordinal
        return (chunk.cumulative[index + 1] - chunk.cumulative[index]) // MICROS_PER_SECOND

    # --- internals --------------------------------------------------------------------------

    def _local_date(self, micros: int) -> dt.date:
        return dt.datetime.fromtimestamp(micros // MICROS_PER_SECOND, self.zone).date()

    def _position(self, micros: int) -> tuple[int, int]:
        """(local year, business micros from that year's start) of an instant."""
        day = self._local_date(micros)
        return day.year, self._year(day.year).position(day.toordinal(), micros)

    def _offset(self, micros: int) -> int:
        """The zone's UTC offset (microseconds) in force at an instant."""
        offset = dt.datetime.fromtimestamp(micros // MICROS_PER_SECOND, self.zone).utcoffset()
        return (offset or dt.timedelta(0)) // _ONE_MICRO

    def _offset_pieces(self, low: int, high: int) -> list[tuple[int, int, int]]:
        """``[(from, until, offset)]`` covering [low, high): at most one transition is split.

        Zones change offset at most a few times a year, so a window of three days holds at
        most one change; the instant of the change is found by bisection (whole seconds).
        """
        first, last = self._offset(low), self._offset(high - 1)
        if first == last:
            return [(low, high, first)]
        lo, hi = low // MICROS_PER_SECOND, (high - 1) // MICROS_PER_SECOND
        while hi - lo > 1:  # invariant: offset(lo) == first, offset(hi) != first
            middle = (lo + hi) // 2
            if self._offset(middle * MICROS_PER_SECOND) == first:
                lo = middle
            else:
                hi = middle
        change = hi * MICROS_PER_SECOND
        return [(low, change, first), (change, high, last)]

    def _spans(self, day: dt.date) -> tuple[Span, ...]:
        """The UTC spans of ``day``: every instant whose local wall time is in an interval.

        While the offset is constant, wall time = instant + offset, so an interval maps to
        one UTC range per offset piece. On a DST day that makes the day 23 or 25 hours
        long, drops the wall times that do not exist and counts the repeated hour twice.
        """
        intervals = self.day_intervals(day)
        if not intervals:
            return ()
        wall_midnight = (day.toordinal() - _EPOCH_ORDINAL) * 86_400 * MICROS_PER_SECOND
        # Offsets lie within ±26 h: this window holds every instant whose wall date is day.
        margin = 26 * 3600 * MICROS_PER_SECOND
        pieces = self._offset_pieces(
            wall_midnight - margin, wall_midnight + 86_400 * MICROS_PER_SECOND + margin
        )
        spans: list[Span] = []
        for start_minute, end_minute in intervals:
            wall_start = wall_midnight + start_minute * MICROS_PER_MINUTE
            wall_end = wall_midnight + end_minute * MICROS_PER_MINUTE
            for piece_start, piece_end, offset in pieces:
                start = max(piece_start, wall_start - offset)
                end = min(piece_end, wall_end - offset)
                if start < end:
                    spans.append((start, end))
        spans.sort()
        merged: list[Span] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return tuple(merged)

    def _year(self, year: int) -> _Year:
        chunk = self._years.get(year)
        if chunk is not None:
            return chunk
        if not dt.MINYEAR < year < dt.MAXYEAR:
            raise NoBusinessTimeError(f"year {year} is outside the supported range")
        first = dt.date(year, 1, 1)
        days = (dt.date(year + 1, 1, 1) - first).days
        spans = [self._spans(first + dt.timedelta(days=i)) for i in range(days)]
        cumulative = [0] * (days + 1)
        for i, day_spans in enumerate(spans):
            cumulative[i + 1] = cumulative[i] + sum(end - start for start, end in day_spans)
        chunk = _Year(first.toordinal(), spans, cumulative)
        self._years[year] = chunk
        return chunk


def seven_by_twenty_four(zone: str = "Asia/Shanghai") -> BusinessCalendar:
    """Every day 00:00–24:00: business time is wall time."""
    return BusinessCalendar(
        zone=zone, weekly={day: [(0, MINUTES_PER_DAY)] for day in range(7)}, holidays_included=True
    )


def format_minute(minute: int) -> str:
    """``510`` → ``"08:30"``; ``1440`` → ``"24:00"``."""
    hours, minutes = divmod(minute, 60)
    return f"{hours:02d}:{minutes:02d}"


def parse_minute(text: str) -> int:
    """``"08:30"`` → ``510``; accepts ``"24:00"``; raises ValueError otherwise."""
    hours_text, sep, minutes_text = text.strip().partition(":")
    if not sep or not hours_text.isdigit() or not minutes_text[:2].isdigit():
        raise ValueError(f"not a time of day: {text!r}")
    if minutes_text[2:] not in ("", ":00"):
        raise ValueError(f"whole minutes only: {text!r}")
    hours, minutes = int(hours_text), int(minutes_text[:2])
    if len(minutes_text[:2]) != 2 or minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"not a time of day: {text!r}")
    return hours * 60 + minutes


def weekly_from_rows(rows: Sequence[tuple[int, int, int]]) -> dict[int, list[Interval]]:
    """``[(weekday, start_minute, end_minute), …]`` → the ``weekly`` mapping."""
    weekly: dict[int, list[Interval]] = {}
    for weekday, start, end in rows:
        weekly.setdefault(weekday, []).append((start, end))
    return weekly
