"""Calendar services and the iCalendar import: rules, all-or-nothing, audit, revision."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from opsassure.catalog import ical, services
from opsassure.catalog.models import CalendarDay, ServiceCalendar, WorkingInterval
from opsassure.catalog.queries import business_calendar
from opsassure.core.models import AuditEvent
from tests.catalog.icsdata import NATIONAL_DAY_2027, event, vcalendar
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _calendar(world: World, code: str = "HOSP") -> ServiceCalendar:
    return services.create_calendar(
        customer=world.customer_a,
        code=code,
        name="医院 5×8",
        intervals=[(d, 480, 720) for d in range(5)] + [(d, 840, 1080) for d in range(5)],
    )


def _state(calendar: ServiceCalendar) -> tuple[list[tuple[object, ...]], int, int]:
    rows = list(
        CalendarDay.objects.filter(calendar=calendar)
        .order_by("date")
        .values_list("date", "kind", "name", "source")
    )
    revision = ServiceCalendar.objects.get(pk=calendar.pk).revision
    return rows, revision, AuditEvent.objects.count()


# --- calendars and intervals ----------------------------------------------------------------


def test_codes_are_unique_per_customer_and_among_provider_calendars(world: World) -> None:
    _calendar(world)
    with pytest.raises(ValidationError) as error:
        _calendar(world)
    assert error.value.message_dict == {"code": ["A calendar with this code already exists."]}
    services.create_calendar(customer=world.customer_b, code="HOSP", name="other customer")
    services.create_calendar(customer=None, code="HOSP", name="provider")
    with pytest.raises(ValidationError):
        services.create_calendar(customer=None, code="HOSP", name="provider again")
    assert ServiceCalendar.objects.filter(code="HOSP").count() == 3


def test_time_zone_must_be_iana(world: World) -> None:
    for zone in ("Mars/Olympus", "../../etc/passwd", "", "CST"):
        with pytest.raises(ValidationError) as error:
            services.create_calendar(customer=world.customer_a, code="TZ", name="x", time_zone=zone)
        assert "time_zone" in error.value.message_dict
    assert not ServiceCalendar.objects.filter(code="TZ").exists()


def test_overlapping_intervals_are_refused_and_nothing_changes(world: World) -> None:
    calendar = _calendar(world)
    before = _state(calendar)
    for start, end in ((700, 800), (420, 1100), (1000, 1020), (479, 481)):
        with pytest.raises(ValidationError) as error:
            services.add_interval(calendar, weekday=0, start_minute=start, end_minute=end)
        assert "start_time" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.add_interval(calendar, weekday=0, start_minute=1100, end_minute=1100)
    with pytest.raises(ValidationError):
        services.add_interval(calendar, weekday=7, start_minute=0, end_minute=60)
    assert _state(calendar) == before
    assert WorkingInterval.objects.filter(calendar=calendar).count() == 10
    # Touching is not overlapping: 12:00–14:00 fills the lunch break.
    services.add_interval(calendar, weekday=0, start_minute=720, end_minute=840)
    assert ServiceCalendar.objects.get(pk=calendar.pk).revision == before[1] + 1


def test_moving_an_interval_onto_another_is_refused(world: World) -> None:
    calendar = _calendar(world)
    afternoon = calendar.intervals.get(weekday=0, start_minute=840)
    with pytest.raises(ValidationError):
        services.update_interval(afternoon, start_minute=600)
    afternoon.refresh_from_db()
    assert (afternoon.start_minute, afternoon.end_minute) == (840, 1080)
    services.update_interval(afternoon, end_minute=1440)
    assert calendar.intervals.get(pk=afternoon.pk).end_minute == 1440


def test_builtins_cannot_be_deleted_or_recoded(world: World) -> None:
    five = ServiceCalendar.objects.get(customer=None, code="5x8")
    with pytest.raises(services.BuiltinCalendarError):
        services.delete_calendar(five)
    with pytest.raises(ValidationError):
        services.update_calendar(five, code="five")
    assert ServiceCalendar.objects.get(pk=five.pk).code == "5x8"
    services.update_calendar(five, name="5×8 标准")
    assert ServiceCalendar.objects.get(pk=five.pk).name == "5×8 标准"


def test_day_updates_keep_one_entry_per_date(world: World) -> None:
    calendar = _calendar(world)
    first = services.set_day(calendar, date=dt.date(2026, 12, 1), kind="holiday", name="a")
    again = services.set_day(calendar, date=dt.date(2026, 12, 1), kind="closed", name="b")
    assert again.pk == first.pk
    assert (again.kind, again.name) == ("closed", "b")
    other = services.set_day(calendar, date=dt.date(2026, 12, 2), kind="holiday")
    with pytest.raises(ValidationError) as error:
        services.update_day(other, date=dt.date(2026, 12, 1))
    assert error.value.message_dict == {"date": ["This date already has an entry."]}
    assert CalendarDay.objects.get(pk=other.pk).date == dt.date(2026, 12, 2)


def test_edits_are_audited(world: World) -> None:
    calendar = _calendar(world)
    services.set_day(calendar, date=dt.date(2026, 12, 1), kind="holiday", name="厂休")
    created = AuditEvent.objects.filter(object_type="catalog.calendarday").get()
    assert (created.action, created.customer_id) == ("create", world.customer_a.pk)
    assert created.changes["kind"] == [None, "holiday"]


# --- iCalendar ----------------------------------------------------------------------------------


def test_ical_import_writes_the_documented_kinds(world: World) -> None:
    calendar = _calendar(world)
    services.set_day(calendar, date=dt.date(2027, 10, 2), kind="closed", name="manual")
    result = ical.import_ical(calendar, NATIONAL_DAY_2027)
    assert result.as_dict() == {
        "events": 6,
        "skipped": 1,
        "days": 11,
        "created": 10,
        "updated": 1,
        "unchanged": 0,
    }
    rows = _state(calendar)[0]
    assert [(d.isoformat(), kind, name, source) for d, kind, name, source in rows] == [
        ("2027-01-01", "holiday", "元旦", "ical"),
        ("2027-09-25", "workday", "补班", "ical"),
        *[(f"2027-10-0{i}", "holiday", "国庆节", "ical") for i in range(1, 8)],
        ("2027-10-09", "workday", "Company workday", "ical"),
        ("2027-10-11", "closed", "机房搬迁", "ical"),
    ]
    engine = business_calendar(ServiceCalendar.objects.get(pk=calendar.pk))
    assert engine.coverage(2027) is True
    start = dt.datetime(2027, 9, 30, 17, 0, tzinfo=engine.zone)  # a Thursday
    assert engine.add(start, 120) == dt.datetime(2027, 10, 8, 1, 0, tzinfo=dt.UTC)
    summary = AuditEvent.objects.filter(changes__days__reason="iCalendar import").get()
    assert summary.changes["days"]["updated"] == ["2027-10-02"]


def test_importing_twice_changes_nothing(world: World) -> None:
    calendar = _calendar(world)
    ical.import_ical(calendar, NATIONAL_DAY_2027)
    before = _state(calendar)
    result = ical.import_ical(calendar, NATIONAL_DAY_2027)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 11)
    assert _state(calendar) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Not a valid iCalendar file"),
        (b"hello world", "Not a valid iCalendar file"),
        (b"\xff\xfe\x00garbage", "Not a valid iCalendar file"),
        (vcalendar(), "no events"),
        (b"BEGIN:VTODO\r\nEND:VTODO\r\n", "no VCALENDAR"),
    ],
)
def test_ical_garbage_is_refused_with_a_reason(world: World, data: bytes, message: str) -> None:
    calendar = _calendar(world)
    before = _state(calendar)
    with pytest.raises(ical.IcalImportError) as error:
        ical.import_ical(calendar, data)
    assert len(error.value.errors) == 1
    assert message in error.value.errors[0]
    assert _state(calendar) == before


def test_one_bad_event_spoils_the_file_and_every_problem_is_listed(world: World) -> None:
    calendar = _calendar(world)
    before = _state(calendar)
    data = vcalendar(
        event("ok", "国庆节", "20271001", "20271008"),
        "UID:t\r\nSUMMARY:half day\r\nDTSTART:20271009T080000Z\r\nDTEND:20271009T120000Z",
        event("r", "元旦", "20270101", extra="RRULE:FREQ=YEARLY"),
        "UID:n\r\nSUMMARY:no start",
        event("b", "backwards", "20271110", "20271101"),
        event("long", "sabbatical", "20270101", "20271231"),
        event("clash", "补班", "20271003"),
        "UID:x\r\nSUMMARY:broken\r\nDTSTART:garbage",
    )
    with pytest.raises(ical.IcalImportError) as error:
        ical.import_ical(calendar, data)
    problems = error.value.errors
    expected = [
        ("Event #2 'half day'", "midnight"),
        ("Event #3 '元旦'", "Recurring"),
        ("Event #4 'no start'", "DTSTART is missing"),
        ("Event #5 'backwards'", "ends before"),
        ("Event #6 'sabbatical'", "364 days"),
        ("Event #7 '补班'", "2027-10-03"),
        ("Event #8 'broken'", "DTSTART"),
    ]
    assert len(problems) == len(expected)
    for problem, (prefix, reason) in zip(problems, expected, strict=True):
        assert problem.startswith(prefix), problem
        assert reason in problem, problem
    assert error.value.message_dict == {"file": problems}
    assert _state(calendar) == before


def test_oversized_ical_is_refused_before_parsing(world: World) -> None:
    calendar = _calendar(world)
    before = _state(calendar)
    padding = "X-PAD:" + "x" * 70 + "\r\n"
    data = NATIONAL_DAY_2027.replace(b"END:VCALENDAR", padding.encode() * 15000 + b"END:VCALENDAR")
    assert len(data) > ical.MAX_ICAL_BYTES
    with pytest.raises(ical.IcalTooLargeError):
        ical.import_ical(calendar, data)
    assert _state(calendar) == before


@pytest.mark.parametrize(
    ("summary", "categories", "kind"),
    [
        ("国庆节", [], "holiday"),
        ("补班", [], "workday"),
        ("上班", [], "workday"),
        ("春节 班", [], "workday"),
        ("Adjusted Working Day", [], "workday"),
        ("x", ["Workday"], "workday"),
        ("x", ["班"], "workday"),
        ("x", ["Closed"], "closed"),
        ("补班", ["closed"], "closed"),
        ("Holiday", ["holiday"], "holiday"),
    ],
)
def test_ical_classification_convention(summary: str, categories: list[str], kind: str) -> None:
    assert ical.classify(summary, categories) == kind
