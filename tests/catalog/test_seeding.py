"""Built-in calendars and the holiday seed: created once, idempotent, never overwrite edits."""

from __future__ import annotations

import datetime as dt

from opsassure.catalog import builtin, services
from opsassure.catalog.holidays_cn import china_schedule
from opsassure.catalog.models import CalendarDay, ServiceCalendar
from opsassure.catalog.queries import business_calendar
from opsassure.core.models import AuditEvent

# The State Council's notice for 2026 (国办发明电〔2025〕7号): weekend days worked.
WORKDAYS_2026 = [
    dt.date(2026, 1, 4),
    dt.date(2026, 2, 14),
    dt.date(2026, 2, 28),
    dt.date(2026, 5, 9),
    dt.date(2026, 9, 20),
    dt.date(2026, 10, 10),
]


def _days(calendar: ServiceCalendar, year: int) -> list[tuple[dt.date, str, str, str]]:
    return list(
        calendar.days.filter(date__year=year)
        .order_by("date")
        .values_list("date", "kind", "name", "source")
    )


def test_post_migrate_created_the_builtins(db: None) -> None:
    builtins = ServiceCalendar.objects.filter(is_builtin=True, customer=None).order_by("code")
    assert [(c.code, c.holidays_included, c.time_zone) for c in builtins] == [
        ("5x8", False, "Asia/Shanghai"),
        ("7x24", True, "Asia/Shanghai"),
    ]


def test_builtin_intervals(calendars: dict[str, ServiceCalendar]) -> None:
    five = calendars["5x8"]
    assert list(
        five.intervals.order_by("weekday", "start_minute").values_list(
            "weekday", "start_minute", "end_minute"
        )
    ) == [(day, start, end) for day in range(5) for start, end in ((480, 720), (840, 1080))]
    seven = calendars["7x24"]
    assert list(seven.intervals.values_list("weekday", "start_minute", "end_minute")) == [
        (day, 0, 1440) for day in range(7)
    ]


def test_seeded_days_match_the_state_council_notice(calendars: dict[str, ServiceCalendar]) -> None:
    five = calendars["5x8"]
    days = _days(five, 2026)
    workdays = [row[0] for row in days if row[1] == CalendarDay.Kind.WORKDAY]
    assert workdays == WORKDAYS_2026
    holidays = {row[0]: row[2] for row in days if row[1] == CalendarDay.Kind.HOLIDAY}
    schedule = china_schedule(2026)
    assert schedule is not None
    assert holidays == schedule.holidays
    assert holidays[dt.date(2026, 10, 1)] == "国庆节"
    assert {row[3] for row in days} == {"seeded"}
    assert [(five.coverage(y), calendars["7x24"].coverage(y)) for y in (2025, 2026, 2099)] == [
        (True, True),
        (True, True),
        (False, True),
    ]


def test_seeding_is_idempotent(calendars: dict[str, ServiceCalendar]) -> None:
    five = ServiceCalendar.objects.get(pk=calendars["5x8"].pk)
    rows, events = CalendarDay.objects.count(), AuditEvent.objects.count()
    results = builtin.seed_builtin_calendars(years=[2025, 2026, 2099])
    # 2025: 19 holidays + 5 调休 days; 2026: 22 + 6.
    assert {code: r.changes.as_dict() for code, r in results.items()} == {
        "7x24": {"created": 0, "updated": 0, "deleted": 0, "unchanged": 52},
        "5x8": {"created": 0, "updated": 0, "deleted": 0, "unchanged": 52},
    }
    assert {code: (r.seeded_years, r.missing_years) for code, r in results.items()} == {
        "7x24": ([2025, 2026], [2099]),
        "5x8": ([2025, 2026], [2099]),
    }
    assert (CalendarDay.objects.count(), AuditEvent.objects.count()) == (rows, events)
    assert ServiceCalendar.objects.get(pk=five.pk).revision == five.revision
    assert ServiceCalendar.objects.filter(code="5x8").count() == 1


def test_reseeding_keeps_manual_rows_and_drops_stale_seeded_ones(
    calendars: dict[str, ServiceCalendar],
) -> None:
    five = calendars["5x8"]
    manual = services.set_day(five, date=dt.date(2026, 10, 1), kind="closed", name="机房搬迁")
    stale = CalendarDay.objects.create(
        calendar=five, date=dt.date(2026, 3, 3), kind="holiday", name="old", source="seeded"
    )
    wrong = CalendarDay.objects.get(calendar=five, date=dt.date(2026, 10, 2))
    CalendarDay.objects.filter(pk=wrong.pk).update(name="typo")
    five.intervals.filter(weekday=4, start_minute=840).delete()
    result = builtin.seed_public_holidays(five, [2026])
    assert result.changes.as_dict() == {"created": 0, "updated": 1, "deleted": 1, "unchanged": 27}
    assert not CalendarDay.objects.filter(pk=stale.pk).exists()
    assert CalendarDay.objects.get(pk=manual.pk).kind == "closed"
    assert CalendarDay.objects.get(pk=wrong.pk).name == "国庆节"
    builtin.seed_builtin_calendars(years=[2026])
    assert five.intervals.count() == 9  # an admin's interval edit survives re-seeding
    event = AuditEvent.objects.filter(object_type="catalog.servicecalendar").latest("seq")
    assert event.changes["days"]["deleted"] == ["2026-03-03"]


def test_a_year_without_data_is_reported_not_invented(
    calendars: dict[str, ServiceCalendar],
) -> None:
    five = calendars["5x8"]
    result = builtin.seed_public_holidays(five, [2099])
    assert (result.seeded_years, result.missing_years, result.changes.changed) == (
        [],
        [2099],
        False,
    )
    assert five.days.filter(date__year=2099).count() == 0
    engine = business_calendar(ServiceCalendar.objects.get(pk=five.pk))
    assert engine.coverage(2099) is False
    # Plain weekdays: 2099-01-01 is a Thursday and counts.
    start = dt.datetime(2098, 12, 31, 17, 0, tzinfo=engine.zone)
    assert engine.add(start, 120) == dt.datetime(2099, 1, 1, 1, 0, tzinfo=dt.UTC)


def test_engine_cache_follows_the_revision(calendars: dict[str, ServiceCalendar]) -> None:
    five = ServiceCalendar.objects.get(pk=calendars["5x8"].pk)
    saturday = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
    before = business_calendar(five)
    assert business_calendar(five) is before
    services.add_interval(five, weekday=5, start_minute=0, end_minute=1440)
    after = business_calendar(ServiceCalendar.objects.get(pk=five.pk))
    assert after is not before
    assert after.add(saturday, 60) == saturday + dt.timedelta(hours=1)
