"""Calendar API: scope, roles, errors, the deadline and business-time helpers, iCal upload."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from opsassure.catalog import ical, services
from opsassure.catalog.models import CalendarDay, ServiceCalendar, WorkingInterval
from opsassure.core.models import User
from tests.catalog.icsdata import NATIONAL_DAY_2027
from tests.conftest import World, make_user
from tests.conftest import api_as as _api_as

pytestmark = pytest.mark.django_db
BASE = "/api/v1/catalog/calendars/"


def api_as(user: User) -> APIClient:
    """A signed-in client that asks for English (the assertions quote English messages)."""
    client = _api_as(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _own(world: World, customer: Any = None, code: str = "HOSP") -> ServiceCalendar:
    return services.create_calendar(
        customer=customer or world.customer_a,
        code=code,
        name=f"{code} calendar",
        intervals=[(d, 480, 1080) for d in range(5)],
    )


def _codes(client: APIClient, url: str = BASE) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.json()
    return [row["code"] for row in response.json()["results"]]


def _power_customer(world: World) -> User:
    """A customer-A user holding every catalog permission (only the scope protects)."""
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="catalog-power")
    group.permissions.set(Permission.objects.filter(content_type__app_label="catalog"))
    user = make_user("catalog_power", None, customer=world.customer_a)
    user.groups.add(group)
    return User.objects.get(pk=user.pk)


def test_customers_see_provider_calendars_and_their_own_only(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    _own(world)
    _own(world, world.customer_b, code="SEC")
    assert _codes(api_as(world.customer_a_user)) == ["5x8", "7x24", "HOSP"]
    assert _codes(api_as(world.customer_b_user)) == ["5x8", "7x24", "SEC"]
    assert _codes(api_as(world.engineer_a)) == ["5x8", "7x24", "HOSP"]
    assert _codes(api_as(world.manager)) == ["5x8", "7x24", "HOSP", "SEC"]
    assert api_as(world.outsider).get(BASE).status_code == 403
    inactive = make_user("gone", "customer_user", customer=world.customer_a)
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    assert APIClient().get(BASE).status_code in {401, 403}


def test_coverage_is_part_of_the_representation(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    rows = {row["code"]: row for row in api_as(world.customer_a_user).get(BASE).json()["results"]}
    assert rows["5x8"]["coverage"] == [
        {"year": 2025, "covered": True},
        {"year": 2026, "covered": True},
        {"year": 2099, "covered": False},
    ]
    assert rows["5x8"]["coverage_warning"] == (
        "No public holiday data for 2099: plain weekdays are used. Enter or import the days."
    )
    assert rows["7x24"]["coverage_warning"] == ""
    assert rows["7x24"]["holidays_included"] is True


def test_list_query_count_does_not_grow_with_rows(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    client = api_as(world.manager)
    client.get(BASE)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(BASE).status_code == 200
    for i in range(15):
        _own(world, code=f"C{i}")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(BASE).json()["results"]) == 17
    assert len(many) == len(few)
    for url in ("/api/v1/catalog/calendar-days/", "/api/v1/catalog/calendar-intervals/"):
        with CaptureQueriesContext(connection) as rows:
            assert client.get(url, {"page_size": 500}).status_code == 200
        assert len(rows) <= len(few)


def test_manager_creates_updates_and_deletes(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    client = api_as(world.manager)
    created = client.post(
        BASE,
        {
            "customer": world.customer_a.pk,
            "code": "ICU",
            "name": "ICU 7×24",
            "time_zone": "Asia/Shanghai",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["code"], body["is_builtin"], body["revision"]) == ("ICU", False, 1)
    url = f"{BASE}{body['id']}/"
    patched = client.patch(
        url, {"holidays_included": True, "customer": world.customer_b.pk}, format="json"
    )
    assert patched.status_code == 200
    calendar = ServiceCalendar.objects.get(pk=body["id"])
    assert (calendar.holidays_included, calendar.customer_id) == (True, world.customer_a.pk)
    assert calendar.revision == 2
    assert client.delete(url).status_code == 204
    assert not ServiceCalendar.objects.filter(pk=body["id"]).exists()


def test_bad_calendar_input_is_a_400_that_writes_nothing(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    client = api_as(world.manager)
    count = ServiceCalendar.objects.count()
    bad_zone = client.post(
        BASE, {"code": "X", "name": "x", "time_zone": "Asia/Beijing"}, format="json"
    )
    assert bad_zone.status_code == 400
    assert bad_zone.json()["error"]["code"] == "validation_error"
    assert list(bad_zone.json()["error"]["fields"]) == ["time_zone"]
    duplicate = client.post(BASE, {"code": "5x8", "name": "again"}, format="json")
    assert duplicate.status_code == 400
    assert duplicate.json()["error"]["fields"] == {
        "code": ["A calendar with this code already exists."]
    }
    assert ServiceCalendar.objects.count() == count


def test_builtin_calendars_cannot_be_deleted(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    response = api_as(world.manager).delete(f"{BASE}{calendars['5x8'].pk}/")
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "conflict",
        "message": "Built-in calendars cannot be deleted.",
        "fields": {},
    }
    assert ServiceCalendar.objects.filter(pk=calendars["5x8"].pk).exists()


def test_read_only_roles_cannot_write(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    five = calendars["5x8"]
    for user in (world.engineer_a, world.auditor, world.customer_a_admin, world.customer_a_user):
        client = api_as(user)
        assert client.get(f"{BASE}{five.pk}/").status_code == 200
        assert client.patch(f"{BASE}{five.pk}/", {"name": "x"}, format="json").status_code == 403
        assert client.post(BASE, {"code": "Y", "name": "y"}, format="json").status_code == 403
    assert ServiceCalendar.objects.get(pk=five.pk).name == "5×8"


def test_customers_never_edit_provider_calendars(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    """Even holding every catalog permission, a customer user edits only its own calendars."""
    client = api_as(_power_customer(world))
    five = calendars["5x8"]
    assert client.patch(f"{BASE}{five.pk}/", {"name": "pwned"}, format="json").status_code == 403
    assert client.delete(f"{BASE}{calendars['7x24'].pk}/").status_code == 403
    interval = client.post(
        "/api/v1/catalog/calendar-intervals/",
        {"calendar": five.pk, "weekday": 5, "start_time": "08:00", "end_time": "12:00"},
        format="json",
    )
    assert interval.status_code == 403
    day = client.post(
        "/api/v1/catalog/calendar-days/",
        {"calendar": five.pk, "date": "2026-12-01", "kind": "closed"},
        format="json",
    )
    assert day.status_code == 403
    provider_wide = client.post(BASE, {"code": "MINE", "name": "mine"}, format="json")
    assert provider_wide.status_code == 400
    assert list(provider_wide.json()["error"]["fields"]) == ["customer"]
    five.refresh_from_db()
    assert (five.name, five.intervals.count(), five.days.filter(date="2026-12-01").count()) == (
        "5×8",
        10,
        0,
    )
    own = client.post(
        BASE, {"customer": world.customer_a.pk, "code": "MINE", "name": "mine"}, format="json"
    )
    assert own.status_code == 201
    theirs = client.post(
        BASE, {"customer": world.customer_b.pk, "code": "T", "name": "t"}, format="json"
    )
    assert theirs.status_code == 400
    assert not ServiceCalendar.objects.filter(code="T").exists()


def test_intervals_api(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    calendar = _own(world)
    client = api_as(world.manager)
    url = "/api/v1/catalog/calendar-intervals/"
    night = client.post(
        url,
        {"calendar": calendar.pk, "weekday": 5, "start_time": "20:00", "end_time": "24:00"},
        format="json",
    )
    assert night.status_code == 201, night.json()
    assert night.json() | {"id": 0} == {
        "id": 0,
        "calendar": calendar.pk,
        "weekday": 5,
        "weekday_display": "Saturday",
        "start_time": "20:00",
        "end_time": "24:00",
    }
    overlap = client.post(
        url,
        {"calendar": calendar.pk, "weekday": 0, "start_time": "17:00", "end_time": "19:00"},
        format="json",
    )
    assert overlap.status_code == 400
    assert overlap.json()["error"]["fields"] == {
        "start_time": ["Overlaps the interval Monday 08:00–18:00."]
    }
    for start, end in (("25:00", "26:00"), ("9", "10:00"), ("12:00", "11:00")):
        bad = client.post(
            url,
            {"calendar": calendar.pk, "weekday": 6, "start_time": start, "end_time": end},
            format="json",
        )
        assert bad.status_code == 400, (start, end)
    listed = client.get(url, {"calendar": calendar.pk}).json()["results"]
    assert [(r["weekday"], r["start_time"], r["end_time"]) for r in listed] == [
        *[(d, "08:00", "18:00") for d in range(5)],
        (5, "20:00", "24:00"),
    ]
    assert WorkingInterval.objects.filter(calendar=calendar).count() == 6


def test_days_api_filters_by_calendar_and_year(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    calendar = _own(world)
    client = api_as(world.manager)
    url = "/api/v1/catalog/calendar-days/"
    for date, kind in (
        ("2026-12-01", "holiday"),
        ("2027-01-02", "workday"),
        ("2026-12-01", "closed"),
    ):
        response = client.post(
            url,
            {"calendar": calendar.pk, "date": date, "kind": kind, "name": "厂休"},
            format="json",
        )
        assert response.status_code == 201, response.json()
    rows = client.get(url, {"calendar": calendar.pk}).json()["results"]
    assert [(r["date"], r["kind"], r["source"]) for r in rows] == [
        ("2026-12-01", "closed", "manual"),
        ("2027-01-02", "workday", "manual"),
    ]
    in_2027 = client.get(url, {"calendar": calendar.pk, "year": 2027}).json()["results"]
    assert [r["date"] for r in in_2027] == ["2027-01-02"]
    seeded = client.get(url, {"calendar": calendars["5x8"].pk, "year": 2026, "kind": "workday"})
    assert [r["date"] for r in seeded.json()["results"]] == [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ]
    assert client.get(url, {"year": "abc"}).status_code == 400
    other = _own(world, world.customer_b, code="SEC")
    hidden = api_as(world.customer_a_user).get(url, {"calendar": other.pk})
    assert hidden.status_code == 400  # an invisible calendar is not a valid choice
    assert "SEC" not in hidden.content.decode()


def test_deadline_helper(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    client = api_as(world.customer_a_user)
    url = f"{BASE}{calendars['5x8'].pk}/deadline/"
    response = client.get(url, {"start": "2025-09-30T17:00:00+08:00", "minutes": 120})
    assert response.status_code == 200
    assert response.json() == {
        "calendar": calendars["5x8"].pk,
        "start": "2025-09-30T09:00:00Z",
        "minutes": 120,
        "deadline": "2025-10-09T01:00:00Z",
        "deadline_local": "2025-10-09T09:00:00+08:00",
        "time_zone": "Asia/Shanghai",
        "warnings": [],
    }
    # A "+" that was not URL-encoded arrives as a space; it is still understood.
    unencoded = client.get(f"{url}?start=2026-11-27T17:30:00+08:00&minutes=480")
    assert unencoded.json()["deadline_local"] == "2026-11-30T17:30:00+08:00"
    warned = client.get(url, {"start": "2098-12-31T17:00:00Z", "minutes": 60})
    assert warned.json()["warnings"] == [
        "No public holiday data for 2099: plain weekdays were used."
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-10-01T08:00:00", "minutes": 10}, "start"),
        ({"start": "tomorrow", "minutes": 10}, "start"),
        ({"start": "2026-02-30T08:00:00Z", "minutes": 10}, "start"),
        ({"start": "1900-01-01T08:00:00Z", "minutes": 10}, "start"),
        ({"minutes": 10}, "start"),
        ({"start": "2026-10-01T08:00:00Z", "minutes": -1}, "minutes"),
        ({"start": "2026-10-01T08:00:00Z", "minutes": "ten"}, "minutes"),
        ({"start": "2026-10-01T08:00:00Z", "minutes": 10**9}, "minutes"),
        ({"start": "2026-10-01T08:00:00Z"}, "minutes"),
    ],
)
def test_deadline_helper_bad_input(
    world: World, calendars: dict[str, ServiceCalendar], params: dict[str, Any], field: str
) -> None:
    response = api_as(world.engineer_a).get(f"{BASE}{calendars['5x8'].pk}/deadline/", params)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_deadline_on_a_calendar_without_working_time_is_a_conflict(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    empty = services.create_calendar(customer=world.customer_a, code="EMPTY", name="empty")
    response = api_as(world.engineer_a).get(
        f"{BASE}{empty.pk}/deadline/", {"start": "2026-10-01T08:00:00Z", "minutes": 1}
    )
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "The calendar has no working time."


def test_business_time_helper(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    client = api_as(world.customer_a_user)
    url = f"{BASE}{calendars['5x8'].pk}/business-time/"
    response = client.get(
        url, {"start": "2026-11-27T17:00:00+08:00", "end": "2026-11-30T09:30:00+08:00"}
    )
    assert response.json() == {
        "calendar": calendars["5x8"].pk,
        "start": "2026-11-27T09:00:00Z",
        "end": "2026-11-30T01:30:00Z",
        "seconds": 9000,
        "minutes": 150,
        "warnings": [],
    }
    backwards = client.get(
        url, {"start": "2026-11-30T09:30:00+08:00", "end": "2026-11-27T17:00:00+08:00"}
    )
    assert backwards.status_code == 400
    assert list(backwards.json()["error"]["fields"]) == ["end"]


def test_another_customers_calendar_is_a_404_everywhere(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    theirs = _own(world, world.customer_b, code="SEC")
    client = api_as(_power_customer(world))
    upload = SimpleUploadedFile("h.ics", NATIONAL_DAY_2027, content_type="text/calendar")
    for response in (
        client.get(f"{BASE}{theirs.pk}/"),
        client.get(f"{BASE}{theirs.pk}/deadline/", {"start": "2026-10-01T08:00:00Z", "minutes": 1}),
        client.get(
            f"{BASE}{theirs.pk}/business-time/",
            {"start": "2026-10-01T08:00:00Z", "end": "2026-10-02T08:00:00Z"},
        ),
        client.post(f"{BASE}{theirs.pk}/import-ical/", {"file": upload}, format="multipart"),
        client.post(f"{BASE}{theirs.pk}/seed-holidays/", {"years": [2026]}, format="json"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert CalendarDay.objects.filter(calendar=theirs).count() == 0


def test_ical_upload(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    calendar = _own(world)
    client = api_as(world.manager)
    url = f"{BASE}{calendar.pk}/import-ical/"
    upload = SimpleUploadedFile("holidays.ics", NATIONAL_DAY_2027, content_type="text/calendar")
    response = client.post(url, {"file": upload}, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "events": 6,
        "skipped": 1,
        "days": 11,
        "created": 11,
        "updated": 0,
        "unchanged": 0,
    }
    assert CalendarDay.objects.filter(calendar=calendar, source="ical").count() == 11


def test_ical_upload_errors(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    calendar = _own(world)
    url = f"{BASE}{calendar.pk}/import-ical/"
    client = api_as(world.manager)
    broken = client.post(
        url, {"file": SimpleUploadedFile("x.ics", b"BEGIN:VCALENDAR\r\nhello")}, format="multipart"
    )
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "validation_error"
    assert broken.json()["error"]["fields"]["file"][0].startswith("Not a valid iCalendar file")
    missing = client.post(url, {}, format="multipart")
    assert missing.status_code == 400
    assert missing.json()["error"]["fields"] == {"file": ["Attach an .ics file as 'file'."]}
    huge = SimpleUploadedFile("big.ics", b"x" * (ical.MAX_ICAL_BYTES + 1))
    too_large = client.post(url, {"file": huge}, format="multipart")
    assert too_large.status_code == 413
    assert too_large.json()["error"] == {
        "code": "request_too_large",
        "message": "The file is larger than 1 MB.",
        "fields": {},
    }
    as_customer = api_as(world.customer_a_user).post(
        url, {"file": SimpleUploadedFile("h.ics", NATIONAL_DAY_2027)}, format="multipart"
    )
    assert as_customer.status_code == 403
    assert CalendarDay.objects.filter(calendar=calendar).count() == 0


def test_seed_holidays_action(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    calendar = _own(world)
    client = api_as(world.manager)
    url = f"{BASE}{calendar.pk}/seed-holidays/"
    response = client.post(url, {"years": [2026, 2099]}, format="json")
    assert response.json() == {
        "seeded_years": [2026],
        "missing_years": [2099],
        "created": 28,
        "updated": 0,
        "deleted": 0,
        "unchanged": 0,
    }
    assert client.post(url, {"years": [1999]}, format="json").status_code == 400
    assert client.post(url, {"years": []}, format="json").status_code == 400
    assert calendar.days.count() == 28
    deadline = client.get(
        f"{BASE}{calendar.pk}/deadline/", {"start": "2026-09-30T17:00:00+08:00", "minutes": 120}
    ).json()
    assert deadline["deadline_local"] == "2026-10-08T09:00:00+08:00"


def test_calendars_are_in_the_openapi_schema(world: World) -> None:
    schema = api_as(world.manager).get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/catalog/calendars/",
        "/api/v1/catalog/calendars/{id}/deadline/",
        "/api/v1/catalog/calendars/{id}/business-time/",
        "/api/v1/catalog/calendars/{id}/import-ical/",
        "/api/v1/catalog/calendar-days/",
        "/api/v1/catalog/calendar-intervals/",
    ):
        assert path in paths, path
