"""Who is on call when: shifts computed from the rotation definitions, never stored.

Rules (docs/oncall.md has the long form):

- A layer's shift ``k`` (k = 0, 1, 2, …) starts at the hand-off time on
  ``start_date + k·length`` days, in the schedule's local wall time, for daily, weekly and
  custom day lengths. Across a daylight-saving change the hand-off stays at its wall time,
  so that one shift is an hour shorter or longer. A hand-off time that does not exist that
  day (spring forward) happens at the same instant as the wall time one hour later; a
  repeated one (fall back) at its first occurrence. Custom lengths in hours count elapsed
  hours from the first hand-off (so a "12 hours" shift is always 12 real hours).
- A layer with an end date stops at its hand-off time on that date.
- Participant of shift ``k``: ``participants[(k + h) mod n]`` where ``h`` is the number of
  shifts ``0..k`` (inclusive) that start on a holiday of the schedule's calendar. So the
  person whose turn falls on a holiday is skipped, the next one takes that shift, and the
  rotation continues from there.
- Layers earlier in the list (lower ``order``) win over later ones where both have a shift.
- An override wins over every layer; of overlapping overrides the newest wins.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

UTC = dt.UTC


@dataclass(frozen=True)
class LayerSpec:
    """Plain data of one rotation layer (no Django), enough to compute its shifts."""

    layer_id: int
    order: int
    zone: str
    start_date: dt.date
    handoff_time: dt.time
    participants: tuple[int, ...]
    shift_days: int | None = None  # days per shift (daily 1, weekly 7, custom days)
    shift_hours: int | None = None  # custom length in hours
    end_date: dt.date | None = None
    holidays: tuple[dt.date, ...] = ()  # sorted
    # Shift starts computed so far (a week view asks for the same ones many times).
    _starts: dict[int, dt.datetime] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    _people: dict[int, int | None] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if (self.shift_days is None) == (self.shift_hours is None):
            raise ValueError("give exactly one of shift_days and shift_hours")
        if (self.shift_days or self.shift_hours or 0) < 1:
            raise ValueError("a shift lasts at least one unit")

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.zone)

    def _local(self, day: dt.date, time: dt.time) -> dt.datetime:
        # fold=0: a repeated wall time is its first occurrence; a missing one maps past the gap
        return dt.datetime.combine(day, time, tzinfo=self.tz).astimezone(UTC)

    @property
    def first_start(self) -> dt.datetime:
        return self._local(self.start_date, self.handoff_time)

    @property
    def end(self) -> dt.datetime | None:
        return None if self.end_date is None else self._local(self.end_date, self.handoff_time)

    def shift_start(self, index: int) -> dt.datetime:
        """Start of shift ``index`` (UTC), ignoring the end date."""
        found = self._starts.get(index)
        if found is not None:
            return found
        if self.shift_days is not None:
            start = self._local(
                self.start_date + dt.timedelta(days=index * self.shift_days), self.handoff_time
            )
        else:
            assert self.shift_hours is not None
            start = self.first_start + dt.timedelta(hours=index * self.shift_hours)
        self._starts[index] = start
        return start

    def shift_bounds(self, index: int) -> tuple[dt.datetime, dt.datetime]:
        start, end = self.shift_start(index), self.shift_start(index + 1)
        if self.end is not None and self.end < end:
            end = self.end
        return start, end

    def index_at(self, at: dt.datetime) -> int | None:
        """The shift running at ``at``, or None before the first / after the last hand-off."""
        if at < self.first_start or (self.end is not None and at >= self.end):
            return None
        if self.shift_days is not None:
            days = (at.astimezone(self.tz).date() - self.start_date).days
            index = days // self.shift_days
        else:
            assert self.shift_hours is not None
            index = int((at - self.first_start) // dt.timedelta(hours=self.shift_hours))
        # The local date may sit on either side of the hand-off: settle on the exact shift.
        while index > 0 and self.shift_start(index) > at:
            index -= 1
        while self.shift_start(index + 1) <= at:
            index += 1
        return index

    def holidays_through(self, index: int) -> int:
        """How many of shifts ``0..index`` start on a holiday (local date of their start)."""
        if not self.holidays or not self.participants:
            return 0
        last_day = self.shift_start(index).astimezone(self.tz).date()
        upto = bisect.bisect_right(self.holidays, last_day)
        count = 0
        for day in self.holidays[:upto]:
            if day < self.start_date:
                continue
            if self.shift_days is not None:
                offset = (day - self.start_date).days
                count += (
                    1 if offset % self.shift_days == 0 and offset // self.shift_days <= index else 0
                )
                continue
            assert self.shift_hours is not None
            step = dt.timedelta(hours=self.shift_hours)
            day_start = self._local(day, dt.time(0)) - self.first_start
            day_end = self._local(day + dt.timedelta(days=1), dt.time(0)) - self.first_start
            low = max(0, -(-day_start // step))  # first shift starting on/after midnight
            high = min(index, -(-day_end // step) - 1)  # last one starting before next midnight
            count += max(0, high - low + 1)
        return count

    def participant(self, index: int) -> int | None:
        if index not in self._people:
            self._people[index] = (
                self.participants[(index + self.holidays_through(index)) % len(self.participants)]
                if self.participants
                else None
            )
        return self._people[index]


@dataclass(frozen=True)
class OverrideSpec:
    override_id: int
    user_id: int
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Segment:
    """A stretch of time with one person on call (as computed, clipped to the window)."""

    start: dt.datetime
    end: dt.datetime
    user_id: int
    layer_id: int | None = None
    shift_index: int | None = None
    override_id: int | None = None


@dataclass
class Rota:
    """A schedule's layers (in winning order) and overrides, as plain data."""

    layers: Sequence[LayerSpec]
    overrides: Sequence[OverrideSpec] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        self.layers = sorted(self.layers, key=lambda spec: (spec.order, spec.layer_id))
        # Newest override first: it wins where several overlap.
        self.overrides = sorted(self.overrides, key=lambda spec: -spec.override_id)

    def who_at(self, at: dt.datetime) -> Segment | None:
        """Who is on call at ``at`` and why (an override, or a layer's shift)."""
        for override in self.overrides:
            if override.start <= at < override.end:
                return Segment(
                    override.start, override.end, override.user_id, override_id=override.override_id
                )
        for layer in self.layers:
            index = layer.index_at(at)
            if index is None:
                continue
            user_id = layer.participant(index)
            if user_id is None:
                continue
            start, end = layer.shift_bounds(index)
            return Segment(start, end, user_id, layer_id=layer.layer_id, shift_index=index)
        return None

    def _boundaries(self, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
        points = {start, end}
        for layer in self.layers:
            index = layer.index_at(start)
            if index is None:
                if layer.first_start >= end:
                    continue
                index = 0 if layer.first_start >= start else None
            if index is None:  # layer already ended before the window
                continue
            while True:
                shift_start, shift_end = layer.shift_bounds(index)
                if shift_start >= end or shift_start >= shift_end:
                    break
                points.update(p for p in (shift_start, shift_end) if start < p < end)
                if layer.end is not None and shift_end >= layer.end:
                    break
                index += 1
        for override in self.overrides:
            points.update(p for p in (override.start, override.end) if start < p < end)
        return sorted(points)

    def segments(self, start: dt.datetime, end: dt.datetime) -> Iterator[Segment]:
        """Who is on call from ``start`` to ``end``: consecutive segments, gaps left out.

        A new segment starts at every hand-off and at every override boundary; adjacent
        pieces of the same shift (or the same override) are merged.
        """
        points = self._boundaries(start, end)
        current: Segment | None = None
        for low, high in itertools.pairwise(points):
            found = self.who_at(low)
            if found is None:
                if current is not None:
                    yield current
                    current = None
                continue
            piece = Segment(
                low, high, found.user_id, found.layer_id, found.shift_index, found.override_id
            )
            if current is not None and (
                current.end == piece.start
                and (current.user_id, current.layer_id, current.shift_index, current.override_id)
                == (piece.user_id, piece.layer_id, piece.shift_index, piece.override_id)
            ):
                current = Segment(
                    current.start,
                    piece.end,
                    piece.user_id,
                    piece.layer_id,
                    piece.shift_index,
                    piece.override_id,
                )
                continue
            if current is not None:
                yield current
            current = piece
        if current is not None:
            yield current
