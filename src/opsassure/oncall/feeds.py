"""iCalendar feeds (the ``icalendar`` library): one per schedule and one per person.

Each shift is a VEVENT with a stable UID (schedule, start, person), so a calendar app
updates an event in place when the rota changes. Times are written in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from opsassure.core.models import User
from opsassure.oncall.models import LayerParticipant, Override, Schedule
from opsassure.oncall.schedules import Shift, shifts

PAST_DAYS = 14
FUTURE_DAYS = 90


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//OpsAssure//on-call//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    return calendar


def _event(schedule: Schedule, shift: Shift, summary: str) -> Event:
    event = Event()
    event.add("uid", f"oncall-{schedule.pk}-{shift.start:%Y%m%dT%H%M%SZ}-{shift.user.pk}@opsassure")
    event.add("summary", summary)
    event.add("dtstart", shift.start)
    event.add("dtend", shift.end)
    event.add("dtstamp", timezone.now().replace(microsecond=0))
    event.add("url", f"{settings.BASE_URL}{schedule.get_absolute_url()}")
    if shift.override is not None:
        event.add("description", _("Override: %(reason)s") % {"reason": shift.override.reason})
    return event


def schedule_calendar(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> bytes:
    calendar = _calendar(_("On call: %(schedule)s") % {"schedule": schedule.name})
    for shift in shifts(schedule, start, end):
        calendar.add_component(_event(schedule, shift, f"{shift.user} · {schedule.name}"))
    return bytes(calendar.to_ical())


def schedules_of(user: User) -> Iterable[Schedule]:
    """The active schedules where ``user`` takes turns or has an override."""
    ids = set(
        LayerParticipant.objects.filter(user=user).values_list("layer__schedule_id", flat=True)
    ) | set(Override.objects.filter(user=user).values_list("schedule_id", flat=True))
    return Schedule.objects.filter(pk__in=ids, is_active=True).order_by("pk")


def person_calendar(user: User, start: dt.datetime, end: dt.datetime) -> bytes:
    calendar = _calendar(_("My on-call shifts: %(user)s") % {"user": user})
    for schedule in schedules_of(user):
        for shift in shifts(schedule, start, end):
            if shift.user.pk == user.pk:
                calendar.add_component(
                    _event(
                        schedule, shift, _("On call: %(schedule)s") % {"schedule": schedule.name}
                    )
                )
    return bytes(calendar.to_ical())
