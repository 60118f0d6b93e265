"""Service calendar operations. Every write goes through here: rules, revision, audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from opsassure.catalog.models import CalendarDay, ServiceCalendar, WorkingInterval
from opsassure.core import audit
from opsassure.core.models import AuditEvent, Customer, User
from opsassure.core.tenancy import is_provider_staff

CALENDAR_FIELDS = ("code", "name", "time_zone", "description", "holidays_included")
# National schedule entries; "closed" days are the calendar owner's own.
NATIONAL_KINDS = (CalendarDay.Kind.HOLIDAY, CalendarDay.Kind.WORKDAY)


class BuiltinCalendarError(Exception):
    """Built-in calendars (7×24, 5×8) cannot be deleted or renamed."""


@dataclass
class DayChanges:
    """What a bulk write of calendar days did (seeding, iCal import)."""

    created: list[dt.date] = field(default_factory=list)
    updated: list[dt.date] = field(default_factory=list)
    deleted: list[dt.date] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "deleted": len(self.deleted),
            "unchanged": self.unchanged,
        }


def check_can_edit(user: User, calendar: ServiceCalendar) -> None:
    """Provider-wide calendars are maintained by provider staff only.

    Customers may read them (their SLAs are measured in them) but a customer user holding
    change permissions edits only their own customer's calendars.
    """
    if calendar.customer_id is None and not is_provider_staff(user):
        raise PermissionDenied(_("Provider-wide calendars are maintained by the provider."))


def _lock(calendar: ServiceCalendar) -> ServiceCalendar:
    """Lock the calendar row: interval overlap checks and day writes are serialised per calendar."""
    return ServiceCalendar.objects.select_for_update().get(pk=calendar.pk)


def _bump_revision(calendar: ServiceCalendar) -> None:
    ServiceCalendar.objects.filter(pk=calendar.pk).update(revision=F("revision") + 1)
    calendar.refresh_from_db(fields=["revision"])


def _full_clean(instance: Any, exclude: Sequence[str] = ()) -> None:
    instance.full_clean(exclude=list(exclude), validate_constraints=False)


def _check_unique_code(calendar: ServiceCalendar) -> None:
    clash = ServiceCalendar.objects.filter(code=calendar.code)
    if calendar.customer_id is None:
        clash = clash.filter(customer__isnull=True)
    else:
        clash = clash.filter(customer_id=calendar.customer_id)
    if calendar.pk is not None:
        clash = clash.exclude(pk=calendar.pk)
    if clash.exists():
        raise ValidationError({"code": [_("A calendar with this code already exists.")]})


# --- calendars -----------------------------------------------------------------------------


def create_calendar(
    *,
    customer: Customer | None,
    code: str,
    name: str,
    time_zone: str = "Asia/Shanghai",
    description: str = "",
    holidays_included: bool = False,
    intervals: Iterable[tuple[int, int, int]] = (),
) -> ServiceCalendar:
    """Create a calendar with its weekly intervals (``(weekday, start_minute, end_minute)``)."""
    with transaction.atomic():
        calendar = ServiceCalendar(
            customer=customer,
            code=code,
            name=name,
            time_zone=time_zone,
            description=description,
            holidays_included=holidays_included,
        )
        _full_clean(calendar)
        _check_unique_code(calendar)
        calendar.save()
        for weekday, start, end in intervals:
            add_interval(calendar, weekday=weekday, start_minute=start, end_minute=end)
        return calendar


def update_calendar(calendar: ServiceCalendar, **changes: Any) -> ServiceCalendar:
    """Change a calendar's own fields; a built-in keeps its code."""
    unknown = set(changes) - set(CALENDAR_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    with transaction.atomic():
        locked = _lock(calendar)
        if locked.is_builtin and changes.get("code", locked.code) != locked.code:
            raise ValidationError({"code": [_("A built-in calendar keeps its code.")]})
        engine_fields_changed = any(
            getattr(locked, name) != value
            for name, value in changes.items()
            if name in ("time_zone", "holidays_included")
        )
        for name, value in changes.items():
            setattr(locked, name, value)
        _full_clean(locked)
        _check_unique_code(locked)
        locked.save()
        if engine_fields_changed:
            _bump_revision(locked)
        return locked


def delete_calendar(calendar: ServiceCalendar) -> None:
    """Delete a calendar with its intervals and days; built-ins stay."""
    if calendar.is_builtin:
        raise BuiltinCalendarError(_("Built-in calendars cannot be deleted."))
    with transaction.atomic():
        calendar.delete()


# --- weekly intervals ----------------------------------------------------------------------


def _check_interval(interval: WorkingInterval) -> None:
    if not 0 <= interval.start_minute < interval.end_minute <= 1440:
        raise ValidationError(
            {"end_time": [_("The end must be after the start, at 24:00 at the latest.")]}
        )
    overlapping = WorkingInterval.objects.filter(
        calendar_id=interval.calendar_id,
        weekday=interval.weekday,
        start_minute__lt=interval.end_minute,
        end_minute__gt=interval.start_minute,
    )
    if interval.pk is not None:
        overlapping = overlapping.exclude(pk=interval.pk)
    clash = overlapping.order_by("start_minute").first()
    if clash is not None:
        raise ValidationError(
            {"start_time": [_("Overlaps the interval %(other)s.") % {"other": clash}]}
        )


def add_interval(
    calendar: ServiceCalendar, *, weekday: int, start_minute: int, end_minute: int
) -> WorkingInterval:
    """Add a working interval to a weekday; it may not overlap the weekday's others."""
    with transaction.atomic():
        _lock(calendar)
        interval = WorkingInterval(
            calendar=calendar, weekday=weekday, start_minute=start_minute, end_minute=end_minute
        )
        _full_clean(interval, exclude=["calendar"])
        _check_interval(interval)
        interval.save()
        _bump_revision(calendar)
        return interval


def update_interval(interval: WorkingInterval, **changes: Any) -> WorkingInterval:
    """Move or resize an interval (weekday, start_minute, end_minute)."""
    unknown = set(changes) - {"weekday", "start_minute", "end_minute"}
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    with transaction.atomic():
        _lock(interval.calendar)
        for name, value in changes.items():
            setattr(interval, name, value)
        _full_clean(interval, exclude=["calendar"])
        _check_interval(interval)
        interval.save()
        _bump_revision(interval.calendar)
        return interval


def delete_interval(interval: WorkingInterval) -> None:
    with transaction.atomic():
        _lock(interval.calendar)
        interval.delete()
        _bump_revision(interval.calendar)


# --- dated exceptions ----------------------------------------------------------------------


def set_day(
    calendar: ServiceCalendar,
    *,
    date: dt.date,
    kind: str,
    name: str = "",
    source: str = CalendarDay.Source.MANUAL,
) -> CalendarDay:
    """Create or replace the entry of one date (one entry per calendar and date)."""
    with transaction.atomic():
        _lock(calendar)
        day = CalendarDay.objects.filter(calendar=calendar, date=date).first() or CalendarDay(
            calendar=calendar, date=date
        )
        day.kind, day.name, day.source = kind, name, source
        _full_clean(day, exclude=["calendar"])
        day.save()
        _bump_revision(calendar)
        return day


def update_day(day: CalendarDay, **changes: Any) -> CalendarDay:
    """Change a day's kind or name (or move it to a free date); it becomes a manual entry."""
    unknown = set(changes) - {"date", "kind", "name"}
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    with transaction.atomic():
        _lock(day.calendar)
        for name, value in changes.items():
            setattr(day, name, value)
        day.source = CalendarDay.Source.MANUAL
        _full_clean(day, exclude=["calendar"])
        taken = CalendarDay.objects.filter(calendar_id=day.calendar_id, date=day.date)
        if taken.exclude(pk=day.pk).exists():
            raise ValidationError({"date": [_("This date already has an entry.")]})
        day.save()
        _bump_revision(day.calendar)
        return day


def delete_day(day: CalendarDay) -> None:
    with transaction.atomic():
        _lock(day.calendar)
        day.delete()
        _bump_revision(day.calendar)


def write_days(
    calendar: ServiceCalendar,
    entries: dict[dt.date, tuple[str, str]],
    *,
    source: str,
    overwrite: Q,
    remove: Q | None = None,
    reason: str,
) -> DayChanges:
    """Write many dated entries ``{date: (kind, name)}`` at once (seeding, imports).

    Existing rows are replaced only where they match ``overwrite`` (e.g. only seeded rows);
    rows matching ``remove`` whose date is not in ``entries`` are deleted. One audit event
    summarises the dates touched. Call inside a transaction holding the calendar's lock.
    """
    changes = DayChanges()
    existing = {
        day.date: day for day in CalendarDay.objects.filter(calendar=calendar, date__in=entries)
    }
    replaceable = set(
        CalendarDay.objects.filter(calendar=calendar, date__in=entries)
        .filter(overwrite)
        .values_list("pk", flat=True)
    )
    new_rows = []
    for date, (kind, name) in sorted(entries.items()):
        day = existing.get(date)
        if day is None:
            new_rows.append(
                CalendarDay(calendar=calendar, date=date, kind=kind, name=name, source=source)
            )
            changes.created.append(date)
        elif day.pk in replaceable and (day.kind, day.name, day.source) != (kind, name, source):
            CalendarDay.objects.filter(pk=day.pk).update(kind=kind, name=name, source=source)
            changes.updated.append(date)
        else:
            changes.unchanged += 1
    CalendarDay.objects.bulk_create(new_rows, ignore_conflicts=True)
    if remove is not None:
        stale = CalendarDay.objects.filter(calendar=calendar).filter(remove)
        stale = stale.exclude(date__in=entries)
        changes.deleted = sorted(stale.values_list("date", flat=True))
        stale.delete()
    if changes.changed:
        _bump_revision(calendar)
        audit.record(
            AuditEvent.Action.UPDATE,
            instance=calendar,
            changes={
                "days": {
                    "reason": reason,
                    "created": [d.isoformat() for d in changes.created],
                    "updated": [d.isoformat() for d in changes.updated],
                    "deleted": [d.isoformat() for d in changes.deleted],
                }
            },
        )
    return changes
