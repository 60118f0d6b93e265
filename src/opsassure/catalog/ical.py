"""iCalendar (RFC 5545) import of holidays and adjusted working days.

Convention for each VEVENT (documented in docs/architecture.md):

- it covers whole local days: all-day events (``DTSTART;VALUE=DATE``) from DTSTART up to
  DTEND exclusive (or DURATION; one day when neither is given), or timed events that start
  and end at midnight in the calendar's zone; partial days are refused;
- it becomes an **adjusted working day** (调休上班) when its SUMMARY or a CATEGORIES value
  contains 班 (班, 上班, 补班) or the word "workday" / "working day"; a **closed** day when a
  CATEGORIES value is "closed" (or 停业); otherwise a **public holiday**;
- STATUS:CANCELLED events are skipped; recurring events (RRULE/RDATE) are refused.

The import is all or nothing: every problem is collected and reported, and nothing is
written unless the whole file is clean. Imported rows replace any entry of the same date.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from opsassure.catalog import services
from opsassure.catalog.models import CalendarDay, ServiceCalendar

MAX_ICAL_BYTES = 1024 * 1024
MAX_EVENT_DAYS = 62  # the longest real closure is a few weeks; guards against a 100-year event
MAX_IMPORT_DAYS = 5000
MAX_REPORTED_ERRORS = 50

_WORKDAY_WORDS = ("班", "workday", "working day", "work day")
_CLOSED_CATEGORIES = {"closed", "停业"}


class IcalTooLargeError(Exception):
    """The file exceeds ``MAX_ICAL_BYTES``."""


class IcalImportError(ValidationError):
    """The file is not importable; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__({"file": errors})


@dataclass(frozen=True)
class ImportResult:
    events: int
    skipped: int
    days: int
    created: int
    updated: int
    unchanged: int

    def as_dict(self) -> dict[str, int]:
        return {
            "events": self.events,
            "skipped": self.skipped,
            "days": self.days,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


def _texts(value: Any) -> list[str]:
    """Plain strings of a property that may be a text, a category list, or a list of those."""
    if value is None:
        return []
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    cats = getattr(value, "cats", None)
    if cats is not None:
        return [str(cat) for cat in cats]
    return [str(value)]


def classify(summary: str, categories: list[str]) -> str:
    """The day kind an event stands for (see the module docstring)."""
    lowered = [category.strip().lower() for category in categories]
    if any(category in _CLOSED_CATEGORIES for category in lowered):
        return CalendarDay.Kind.CLOSED
    texts = [summary.lower(), *lowered]
    if any(word in text for text in texts for word in _WORKDAY_WORDS):
        return CalendarDay.Kind.WORKDAY
    return CalendarDay.Kind.HOLIDAY


def _as_local_date(value: Any, zone: zoneinfo.ZoneInfo, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        local = value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
        if local.time() != dt.time(0, 0):
            raise ValueError(
                _("%(what)s is not at midnight: only whole days are supported.") % {"what": what}
            )
        return local.date()
    if isinstance(value, dt.date):
        return value
    raise ValueError(_("%(what)s is not a date.") % {"what": what})


def _event_dates(event: Any, zone: zoneinfo.ZoneInfo) -> list[dt.date]:
    start_prop = event.get("DTSTART")
    if start_prop is None:
        raise ValueError(_("DTSTART is missing."))
    start_value = start_prop.dt
    start = _as_local_date(start_value, zone, "DTSTART")
    end_prop, duration_prop = event.get("DTEND"), event.get("DURATION")
    if end_prop is not None:
        end = _as_local_date(end_prop.dt, zone, "DTEND")
    elif duration_prop is not None:
        duration = duration_prop.dt
        if not isinstance(duration, dt.timedelta) or duration % dt.timedelta(days=1):
            raise ValueError(_("DURATION must be whole days."))
        end = start + duration
    else:
        end = start + dt.timedelta(days=1)
    if end <= start:
        raise ValueError(_("The event ends before it starts."))
    length = (end - start).days
    if length > MAX_EVENT_DAYS:
        raise ValueError(
            _("The event spans %(days)d days; at most %(max)d are allowed.")
            % {"days": length, "max": MAX_EVENT_DAYS}
        )
    return [start + dt.timedelta(days=i) for i in range(length)]


def parse_ical(data: bytes, zone_name: str) -> tuple[dict[dt.date, tuple[str, str]], int, int]:
    """``{date: (kind, name)}``, events read, events skipped — or ``IcalImportError``."""
    import icalendar

    if len(data) > MAX_ICAL_BYTES:
        raise IcalTooLargeError
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except Exception as error:  # hostile input: any parser failure is the file's fault
        raise IcalImportError(
            [_("Not a valid iCalendar file: %(error)s") % {"error": str(error)[:200]}]
        ) from error
    if getattr(calendar, "name", "") != "VCALENDAR":
        raise IcalImportError([_("Not a valid iCalendar file: no VCALENDAR.")])
    zone = zoneinfo.ZoneInfo(zone_name)
    entries: dict[dt.date, tuple[str, str]] = {}
    errors: list[str] = []
    events = skipped = 0
    for number, event in enumerate(calendar.walk("VEVENT"), start=1):
        events += 1
        summary = " ".join(_texts(event.get("SUMMARY"))).strip()
        label = f"#{number} {summary[:60]!r}" if summary else f"#{number}"
        try:
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                skipped += 1
                continue
            broken = [f"{name}: {message}" for name, message in getattr(event, "errors", [])]
            if broken:
                raise ValueError("; ".join(broken)[:300])
            if "RRULE" in event or "RDATE" in event:
                raise ValueError(_("Recurring events are not supported; list each date."))
            kind = classify(summary, _texts(event.get("CATEGORIES")))
            dates = _event_dates(event, zone)
        except Exception as error:  # one bad event is reported, the others still checked
            errors.append(
                _("Event %(event)s: %(error)s") % {"event": label, "error": str(error)[:300]}
            )
            continue
        for date in dates:
            previous = entries.get(date)
            if previous is not None and previous[0] != kind:
                errors.append(
                    _("Event %(event)s: %(date)s is already a %(kind)s in this file.")
                    % {"event": label, "date": date.isoformat(), "kind": previous[0]}
                )
                continue
            entries[date] = (kind, summary[:200])
        if len(entries) > MAX_IMPORT_DAYS:
            errors.append(_("More than %(max)d days in one file.") % {"max": MAX_IMPORT_DAYS})
            break
    if events == 0:
        errors.append(_("The file contains no events (VEVENT)."))
    if errors:
        if len(errors) > MAX_REPORTED_ERRORS:
            hidden = len(errors) - MAX_REPORTED_ERRORS
            errors = [
                *errors[:MAX_REPORTED_ERRORS],
                _("… and %(n)d more problems.") % {"n": hidden},
            ]
        raise IcalImportError(errors)
    return entries, events, skipped


def import_ical(calendar: ServiceCalendar, data: bytes) -> ImportResult:
    """Import holidays / 调休 days / closures from an iCalendar file, all or nothing.

    Raises ``IcalTooLargeError`` over 1 MB and ``IcalImportError`` (a ``ValidationError``
    listing every problem) for a malformed file; nothing is written in either case.
    """
    entries, events, skipped = parse_ical(data, calendar.time_zone)
    with transaction.atomic():
        locked = ServiceCalendar.objects.select_for_update().get(pk=calendar.pk)
        changes = services.write_days(
            locked,
            entries,
            source=CalendarDay.Source.ICAL,
            overwrite=Q(),
            reason="iCalendar import",
        )
    return ImportResult(
        events=events,
        skipped=skipped,
        days=len(entries),
        created=len(changes.created),
        updated=len(changes.updated),
        unchanged=changes.unchanged,
    )
