"""Calendar pages: list, month grid, weekly hours, coverage warning, calculator, iCal form."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from opsassure.catalog import services
from opsassure.catalog.models import CalendarDay, ServiceCalendar
from opsassure.core.models import User
from tests.catalog.icsdata import NATIONAL_DAY_2027
from tests.conftest import World

pytestmark = pytest.mark.django_db


def browser(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _cell_kinds(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-date="([0-9-]+)" data-kind="(\w+)"', html))


def test_menu_and_list(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    services.create_calendar(customer=world.customer_b, code="SEC", name="证券 calendar")
    html = browser(world.customer_a_user).get("/catalog/calendars/").content.decode()
    assert "Service catalog &amp; SLA" in html
    assert f'href="/catalog/calendars/{calendars["5x8"].pk}/"' in html
    assert "SEC" not in html
    assert "missing — plain weekdays" not in html  # this year (2026 in the fixture) is known
    assert browser(world.outsider).get("/catalog/calendars/").status_code == 403


def test_list_query_count_does_not_grow(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    client = browser(world.manager)
    client.get("/catalog/calendars/")
    with CaptureQueriesContext(connection) as few:
        client.get("/catalog/calendars/")
    for i in range(12):
        services.create_calendar(customer=world.customer_a, code=f"C{i}", name=f"c{i}")
    with CaptureQueriesContext(connection) as many:
        html = client.get("/catalog/calendars/").content.decode()
    assert html.count('href="/catalog/calendars/') >= 14
    assert len(many) == len(few)


def test_month_grid_shows_holidays_and_adjusted_days(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    page = browser(world.customer_a_user).get(
        f"/catalog/calendars/{calendars['5x8'].pk}/", {"month": "2026-10"}
    )
    assert page.status_code == 200
    html = page.content.decode()
    kinds = _cell_kinds(html)
    assert len(kinds) == 35  # Monday 2026-09-28 … Sunday 2026-11-01
    assert [kinds[f"2026-10-0{d}"] for d in range(1, 10)] == [
        "holiday",
        "holiday",
        "holiday",
        "off",
        "holiday",
        "holiday",
        "holiday",
        "working",
        "working",
    ]
    assert (kinds["2026-10-10"], kinds["2026-10-11"], kinds["2026-09-28"]) == (
        "workday",
        "off",
        "working",
    )
    assert 'data-testid="month-title">2026-10<' in html
    assert "国庆节" in html
    assert "08:00–12:00" in html
    assert "14:00–18:00" in html
    assert 'href="?month=2026-09"' in html
    assert 'href="?month=2026-11"' in html
    assert 'data-testid="coverage-warning"' in html  # 2099 is among the checked years
    assert 'data-testid="ical-form"' not in html  # customers do not edit provider calendars
    assert 'data-testid="deadline-form"' not in html


def test_month_for_a_year_without_data_warns(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    html = (
        browser(world.manager)
        .get(f"/catalog/calendars/{calendars['5x8'].pk}/", {"month": "2098-01"})
        .content.decode()
    )
    assert "No public holiday data for 2025, 2026, 2098, 2099" not in html
    assert "No public holiday data for 2098, 2099" in html
    assert _cell_kinds(html)["2098-01-01"] == "working"  # plain weekdays
    bad = browser(world.manager).get(f"/catalog/calendars/{calendars['5x8'].pk}/", {"month": "x"})
    assert bad.status_code == 200


def test_deadline_calculator(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    client = browser(world.engineer_a)
    url = f"/catalog/calendars/{calendars['5x8'].pk}/"
    html = client.get(url, {"start": "2025-09-30T17:00", "minutes": "120"}).content.decode()
    assert 'data-testid="deadline-result"' in html
    assert "<strong>2025-10-09 09:00</strong>" in html
    assert "2025-10-09 09:00 CST" in html  # the engineer's zone is Asia/Shanghai too
    User.objects.filter(pk=world.engineer_a.pk).update(time_zone="Europe/Berlin")
    html = (
        browser(User.objects.get(pk=world.engineer_a.pk))
        .get(url, {"start": "2025-09-30T17:00", "minutes": "120"})
        .content.decode()
    )
    assert "2025-10-09 03:00 CEST" in html
    bad = client.get(url, {"start": "someday", "minutes": "-5"}).content.decode()
    assert 'data-testid="deadline-result"' not in bad
    assert "A date and time, e.g. 2026-10-01 08:00." in bad
    assert "Ensure this value is greater than or equal to 0." in bad


def test_ical_form_imports_for_managers(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    calendar = services.create_calendar(customer=world.customer_a, code="HOSP", name="hospital")
    client = browser(world.manager)
    page = client.get(f"/catalog/calendars/{calendar.pk}/").content.decode()
    assert 'data-testid="ical-form"' in page
    upload = SimpleUploadedFile("h.ics", NATIONAL_DAY_2027, content_type="text/calendar")
    response = client.post(
        f"/catalog/calendars/{calendar.pk}/import/", {"file": upload}, follow=True
    )
    assert response.redirect_chain == [(f"/catalog/calendars/{calendar.pk}/", 302)]
    assert "Imported 11 days (11 new, 0 changed)." in response.content.decode()
    assert CalendarDay.objects.filter(calendar=calendar).count() == 11


def test_ical_form_reports_errors_and_writes_nothing(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    calendar = services.create_calendar(customer=world.customer_a, code="HOSP", name="hospital")
    client = browser(world.manager)
    bad = SimpleUploadedFile("bad.ics", b"BEGIN:VCALENDAR\r\n<script>alert(1)</script>\r\n")
    html = client.post(
        f"/catalog/calendars/{calendar.pk}/import/", {"file": bad}, follow=True
    ).content.decode()
    assert "Nothing was imported:" in html
    assert "<script>alert(1)</script>" not in html
    huge = SimpleUploadedFile("big.ics", b"x" * (1024 * 1024 + 1))
    html = client.post(
        f"/catalog/calendars/{calendar.pk}/import/", {"file": huge}, follow=True
    ).content.decode()
    assert "The file is larger than 1 MB." in html
    assert CalendarDay.objects.filter(calendar=calendar).count() == 0


def test_ical_form_is_refused_to_readers_and_other_customers(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    mine = services.create_calendar(customer=world.customer_a, code="HOSP", name="hospital")
    theirs = services.create_calendar(customer=world.customer_b, code="SEC", name="securities")
    upload = SimpleUploadedFile("h.ics", NATIONAL_DAY_2027)
    assert (
        browser(world.customer_a_user)
        .post(f"/catalog/calendars/{mine.pk}/import/", {"file": upload})
        .status_code
        == 403
    )
    assert browser(world.customer_a_user).get(f"/catalog/calendars/{theirs.pk}/").status_code == 404
    assert browser(world.engineer_a).get(f"/catalog/calendars/{theirs.pk}/").status_code == 404
    assert browser(world.manager).get(f"/catalog/calendars/{mine.pk}/import/").status_code == 405
    assert (
        CalendarDay.objects.count()
        == CalendarDay.objects.exclude(calendar__in=[mine, theirs]).count()
    )


def test_untrusted_text_is_escaped(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    calendar = services.create_calendar(
        customer=world.customer_a,
        code="XSS",
        name="<img src=x onerror=alert(1)>",
        description="<script>alert(2)</script>",
    )
    services.set_day(calendar, date=datetime.date(2026, 10, 1), kind="holiday", name="<b>x</b>")
    html = (
        browser(world.manager)
        .get(f"/catalog/calendars/{calendar.pk}/", {"month": "2026-10"})
        .content.decode()
    )
    assert "<img src=x" not in html
    assert "<script>alert(2)" not in html
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_calculator_on_a_calendar_without_working_time(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    empty = services.create_calendar(customer=world.customer_a, code="EMPTY", name="empty")
    response = browser(world.manager).get(
        f"/catalog/calendars/{empty.pk}/", {"start": "2026-10-01T08:00", "minutes": "5"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The calendar has no working time." in html
    assert 'data-testid="deadline-result"' not in html
