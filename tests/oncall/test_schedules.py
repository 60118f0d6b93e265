"""who_is_on_call / shifts from the database: overrides, swaps, holiday calendars, feeds."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from icalendar import Calendar

from opsassure.catalog.models import CalendarDay, ServiceCalendar
from opsassure.oncall import feeds, services
from opsassure.oncall.errors import InvalidInputError
from opsassure.oncall.models import Layer, Override
from tests.conftest import World
from tests.oncall.conftest import Oncall, add_layer

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def sh(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc]


def names(shifts: list[services.Shift] | object) -> list[tuple[str, str, str]]:
    return [
        (
            s.start.astimezone(SHANGHAI).strftime("%m-%d %H:%M"),
            s.end.astimezone(SHANGHAI).strftime("%m-%d %H:%M"),
            s.user.username,
        )
        for s in shifts  # type: ignore[attr-defined]
    ]


def test_who_is_on_call_at_the_hand_off(oncall: Oncall) -> None:
    # 2020-01-01 is shift 0 (first); 2026-03-02 is day 2252 since: an even shift → first.
    assert services.who_is_on_call(oncall.schedule, sh(2026, 3, 2, 8, 59, 59)) == [oncall.second]
    assert services.who_is_on_call(oncall.schedule, sh(2026, 3, 2, 9, 0)) == [oncall.first]
    assert services.who_is_on_call(oncall.schedule, sh(2026, 3, 3, 9, 0)) == [oncall.second]
    assert services.who_is_on_call(oncall.schedule, sh(2019, 12, 31, 12, 0)) == []


def test_override_and_swap(oncall: Oncall, world: World) -> None:
    services.create_override(
        oncall.schedule,
        user=world.manager,
        start=sh(2026, 3, 2, 12, 0),
        end=sh(2026, 3, 2, 14, 0),
        reason="doctor",
    )
    services.swap_shifts(
        oncall.schedule,
        first=(oncall.first, sh(2026, 3, 4, 9, 0), sh(2026, 3, 5, 9, 0)),
        second=(oncall.second, sh(2026, 3, 5, 9, 0), sh(2026, 3, 6, 9, 0)),
    )
    result = list(services.shifts(oncall.schedule, sh(2026, 3, 2, 9, 0), sh(2026, 3, 6, 9, 0)))
    assert names(result) == [
        ("03-02 09:00", "03-02 12:00", "engineer_a"),
        ("03-02 12:00", "03-02 14:00", "manager"),
        ("03-02 14:00", "03-03 09:00", "engineer_a"),
        ("03-03 09:00", "03-04 09:00", "operator_a"),
        ("03-04 09:00", "03-05 09:00", "operator_a"),  # swapped: was engineer_a's day
        ("03-05 09:00", "03-06 09:00", "engineer_a"),
    ]
    assert [s.source for s in result] == [
        "layer",
        "override",
        "layer",
        "layer",
        "override",
        "override",
    ]
    assert Override.objects.filter(kind="swap").count() == 2


def test_override_input_is_checked(oncall: Oncall, world: World) -> None:
    with pytest.raises(InvalidInputError):
        services.create_override(
            oncall.schedule, user=world.manager, start=sh(2026, 3, 2, 14), end=sh(2026, 3, 2, 12)
        )
    with pytest.raises(InvalidInputError):
        services.create_override(
            oncall.schedule,
            user=world.customer_a_user,
            start=sh(2026, 3, 2, 12),
            end=sh(2026, 3, 2, 14),
        )
    with pytest.raises(InvalidInputError):
        services.swap_shifts(
            oncall.schedule,
            first=(oncall.first, sh(2026, 3, 4, 9), sh(2026, 3, 5, 9)),
            second=(oncall.second, sh(2026, 3, 4, 21), sh(2026, 3, 5, 21)),
        )
    assert Override.objects.count() == 0


def test_a_higher_layer_wins_where_it_has_a_shift(oncall: Oncall, world: World) -> None:
    Layer.objects.filter(pk=oncall.layer.pk).update(order=10)
    add_layer(
        oncall.schedule,
        [world.manager],
        name="weekend lead",
        order=0,
        kind=Layer.Kind.CUSTOM,
        length=12,
        length_unit=Layer.Unit.HOURS,
        start_date=dt.date(2026, 3, 7),
        end_date=dt.date(2026, 3, 8),
    )
    assert services.who_is_on_call(oncall.schedule, sh(2026, 3, 7, 20, 0)) == [world.manager]
    assert services.who_is_on_call(oncall.schedule, sh(2026, 3, 8, 10, 0)) == [oncall.first]


def _calendar(holidays_included: bool = False) -> ServiceCalendar:
    calendar = ServiceCalendar.objects.create(
        code="duty", name="Duty", holidays_included=holidays_included
    )
    for day in range(1, 8):
        CalendarDay.objects.create(
            calendar=calendar, date=dt.date(2026, 10, day), kind=CalendarDay.Kind.HOLIDAY
        )
    CalendarDay.objects.create(
        calendar=calendar, date=dt.date(2026, 10, 11), kind=CalendarDay.Kind.WORKDAY
    )
    return calendar


def test_holiday_shifts_go_to_the_next_participant(oncall: Oncall, world: World) -> None:
    layer_start = dt.date(2026, 9, 28)
    Layer.objects.filter(pk=oncall.layer.pk).delete()
    add_layer(oncall.schedule, [oncall.first, oncall.second, world.manager], start_date=layer_start)
    oncall.schedule.calendar = _calendar()
    oncall.schedule.save()
    days = [
        services.who_is_on_call(
            oncall.schedule,
            sh(2026, 9, 28 + offset, 12, 0) if offset < 3 else sh(2026, 10, offset - 2, 12, 0),
        )[0].username
        for offset in range(12)
    ]
    # 9/28–9/30 plain; 10/1–10/7 holidays: each holiday turn passes to the next person.
    assert days == [
        "engineer_a",
        "operator_a",
        "manager",
        "operator_a",
        "engineer_a",
        "manager",
        "operator_a",
        "engineer_a",
        "manager",
        "operator_a",
        "manager",
        "engineer_a",
    ]


def test_a_calendar_that_includes_holidays_skips_only_closed_days(
    oncall: Oncall, world: World
) -> None:
    calendar = _calendar(holidays_included=True)
    CalendarDay.objects.create(
        calendar=calendar, date=dt.date(2026, 10, 9), kind=CalendarDay.Kind.CLOSED
    )
    Layer.objects.filter(pk=oncall.layer.pk).delete()
    add_layer(
        oncall.schedule,
        [oncall.first, oncall.second, world.manager],
        start_date=dt.date(2026, 10, 7),
    )
    oncall.schedule.calendar = calendar
    oncall.schedule.save()
    people = [
        services.who_is_on_call(oncall.schedule, sh(2026, 10, day, 12, 0))[0].username
        for day in (7, 8, 9, 10)
    ]
    assert people == ["engineer_a", "operator_a", "engineer_a", "operator_a"]


def test_schedule_feed_lists_the_shifts(oncall: Oncall) -> None:
    body = feeds.schedule_calendar(oncall.schedule, sh(2026, 3, 2, 9, 0), sh(2026, 3, 4, 9, 0))
    calendar = Calendar.from_ical(body)
    events = [
        (str(e["summary"]), e.decoded("dtstart"), e.decoded("dtend"))
        for e in calendar.walk("VEVENT")
    ]
    assert events == [
        (f"{oncall.first} · Team A 24/7", sh(2026, 3, 2, 9, 0), sh(2026, 3, 3, 9, 0)),
        (f"{oncall.second} · Team A 24/7", sh(2026, 3, 3, 9, 0), sh(2026, 3, 4, 9, 0)),
    ]
    person = Calendar.from_ical(
        feeds.person_calendar(oncall.second, sh(2026, 3, 2, 9, 0), sh(2026, 3, 4, 9, 0))
    )
    assert [e.decoded("dtstart") for e in person.walk("VEVENT")] == [sh(2026, 3, 3, 9, 0)]


def test_feed_urls_need_the_secret_token(oncall: Oncall, client: object) -> None:
    from django.test import Client

    assert isinstance(client, Client)
    ok = client.get(f"/oncall/feeds/schedule/{oncall.schedule.feed_token}.ics")
    assert ok.status_code == 200
    assert ok["Content-Type"] == "text/calendar; charset=utf-8"
    assert b"BEGIN:VCALENDAR" in ok.content
    assert client.get("/oncall/feeds/schedule/wrong-token.ics").status_code == 404
    assert client.get("/oncall/feeds/person/wrong-token.ics").status_code == 404
