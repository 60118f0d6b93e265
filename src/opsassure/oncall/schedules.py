"""Reading schedules: who is on call now / at a time, and the shifts of a period.

The computation itself is ``rotation`` (plain data, no database); this module loads a
schedule's layers, participants, overrides and holidays in a few queries and hands them over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils import timezone

from opsassure.catalog.models import CalendarDay
from opsassure.core.models import User
from opsassure.oncall.models import Layer, LayerParticipant, Override, Schedule
from opsassure.oncall.rotation import LayerSpec, OverrideSpec, Rota, Segment


@dataclass(frozen=True)
class Shift:
    """A stretch of time with one person on call, for the UI, the API and the feeds."""

    start: dt.datetime
    end: dt.datetime
    user: User
    layer: Layer | None
    override: Override | None
    shift_index: int | None

    @property
    def source(self) -> str:
        return "override" if self.override is not None else "layer"


def holiday_dates(schedule: Schedule) -> tuple[dt.date, ...]:
    """The days whose shifts go to the next participant: the calendar's closed days, and its
    public holidays unless the calendar counts holidays as working time."""
    calendar = schedule.calendar
    if calendar is None:
        return ()
    kinds = [CalendarDay.Kind.CLOSED]
    if not calendar.holidays_included:
        kinds.append(CalendarDay.Kind.HOLIDAY)
    days = CalendarDay.objects.filter(calendar=calendar, kind__in=kinds).order_by("date")
    return tuple(days.values_list("date", flat=True))


def layer_spec(
    layer: Layer, participants: tuple[int, ...], holidays: tuple[dt.date, ...], zone: str
) -> LayerSpec:
    days = layer.shift_days
    return LayerSpec(
        layer_id=layer.pk,
        order=layer.order,
        zone=zone,
        start_date=layer.start_date,
        handoff_time=layer.handoff_time,
        participants=participants,
        shift_days=days,
        shift_hours=None if days is not None else layer.length,
        end_date=layer.end_date,
        holidays=holidays,
    )


@dataclass
class LoadedSchedule:
    schedule: Schedule
    rota: Rota
    layers: dict[int, Layer]
    overrides: dict[int, Override]

    def users(self, ids: set[int]) -> dict[int, User]:
        return {user.pk: user for user in User.objects.filter(pk__in=ids)}


def load(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> LoadedSchedule:
    """A schedule's rota with the overrides that touch ``[start, end)``."""
    layers = list(Layer.objects.filter(schedule=schedule).order_by("order", "id"))
    turns: dict[int, list[int]] = {layer.pk: [] for layer in layers}
    for layer_id, user_id in (
        LayerParticipant.objects.filter(layer__schedule=schedule, user__is_active=True)
        .order_by("layer_id", "position")
        .values_list("layer_id", "user_id")
    ):
        turns[layer_id].append(user_id)
    holidays = holiday_dates(schedule)
    overrides = list(
        Override.objects.filter(schedule=schedule, start__lt=end, end__gt=start).order_by("pk")
    )
    rota = Rota(
        layers=[
            layer_spec(layer, tuple(turns[layer.pk]), holidays, schedule.time_zone)
            for layer in layers
        ],
        overrides=[OverrideSpec(o.pk, o.user_id, o.start, o.end) for o in overrides],
    )
    return LoadedSchedule(
        schedule, rota, {layer.pk: layer for layer in layers}, {o.pk: o for o in overrides}
    )


def _shift(loaded: LoadedSchedule, segment: Segment, users: dict[int, User]) -> Shift:
    return Shift(
        start=segment.start,
        end=segment.end,
        user=users[segment.user_id],
        layer=loaded.layers.get(segment.layer_id) if segment.layer_id else None,
        override=loaded.overrides.get(segment.override_id) if segment.override_id else None,
        shift_index=segment.shift_index,
    )


def who_is_on_call(schedule: Schedule, at: dt.datetime | None = None) -> list[User]:
    """The people on call in ``schedule`` at ``at`` (default: now); empty if nobody is."""
    at = at or timezone.now()
    loaded = load(schedule, at, at + dt.timedelta(microseconds=1))
    segment = loaded.rota.who_at(at)
    if segment is None:
        return []
    return list(User.objects.filter(pk=segment.user_id))


def current_shift(schedule: Schedule, at: dt.datetime | None = None) -> Shift | None:
    """The shift running at ``at`` (with its layer or override), or None."""
    at = at or timezone.now()
    loaded = load(schedule, at, at + dt.timedelta(microseconds=1))
    segment = loaded.rota.who_at(at)
    if segment is None:
        return None
    return _shift(loaded, segment, loaded.users({segment.user_id}))


def shifts(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> Iterator[Shift]:
    """Who is on call from ``start`` to ``end``, as consecutive shifts clipped to the window.

    A new shift starts at every hand-off and every override boundary; stretches with nobody
    on call are left out.
    """
    if end <= start:
        return
    loaded = load(schedule, start, end)
    segments = list(loaded.rota.segments(start, end))
    users = loaded.users({segment.user_id for segment in segments})
    for segment in segments:
        yield _shift(loaded, segment, users)
