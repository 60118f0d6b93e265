from __future__ import annotations

import csv
import io
import zoneinfo
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from opsassure.core.models import AuditEvent, Customer, User
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.django_db


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("language", "expected"), [("zh-hans", "登录"), ("en", "Log in")])
def test_login_page_follows_the_browser_language(db: None, language: str, expected: str) -> None:
    response = Client().get("/login/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert expected in response.content.decode()


def test_anonymous_dashboard_redirects_to_login(db: None) -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_wrong_credentials_get_one_clear_message(world: World) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for username in ("manager", "nobody-has-this-name"):
        response = client.post("/login/", {"username": username, "password": "nope"})
        assert response.status_code == 200
        assert "Wrong username or password" in response.content.decode()


def test_login_shows_the_dashboard(world: World) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/login/", {"username": "manager", "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="current-user">Manager<' in html
    assert 'data-testid="tile-customers">2<' in html


def test_sidebar_shows_only_what_the_role_may_use(world: World) -> None:
    manager_html = logged_in(world.manager).get("/").content.decode()
    customer_html = logged_in(world.customer_a_user).get("/").content.decode()
    assert "/core/audit/" in manager_html
    assert "/core/teams/" in manager_html
    assert "/core/audit/" not in customer_html
    assert "/core/teams/" not in customer_html


def test_language_switch_is_saved_to_the_profile(world: World) -> None:
    client = logged_in(world.engineer_a)
    response = client.post("/language/", {"language": "en", "next": "/core/customers/"})
    assert response.status_code == 302
    assert response["Location"] == "/core/customers/"
    assert User.objects.get(pk=world.engineer_a.pk).language == "en"
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="en">' in page
    client.post("/language/", {"language": "zh-hans"})
    page = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in page


def test_language_switch_refuses_foreign_redirects(world: World) -> None:
    response = logged_in(world.manager).post(
        "/language/", {"language": "en", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_times_are_shown_in_the_users_zone(world: World) -> None:
    User.objects.filter(pk=world.manager.pk).update(time_zone="Asia/Tokyo")
    customer = Customer.objects.create(code="TZ", name="tz")
    html = (
        logged_in(User.objects.get(pk=world.manager.pk))
        .get(f"/core/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )
    local = timezone.localtime(customer.created_at, zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert "Asia/Tokyo" in html
    assert f"{local:%H}:{local:%M}" in html or local.strftime("%-I:%M") in html


def test_customer_user_cannot_open_the_audit_trail(world: World) -> None:
    response = logged_in(world.customer_a_user).get("/core/audit/")
    assert response.status_code == 403
    assert (
        AuditEvent.objects.filter(
            action="permission_denied", actor_id=world.customer_a_user.pk
        ).count()
        == 1
    )


def test_audit_trail_filters_and_exports(world: World) -> None:
    client = logged_in(world.auditor)
    page = client.get("/core/audit/", {"action": "create", "object_type": "core.customer"})
    assert page.status_code == 200
    assert "Customer A 医院" in page.content.decode()
    response = client.get(
        "/core/audit/export/", {"format": "csv", "action": "create", "object_type": "core.customer"}
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["seq", "occurred_at", "action"]
    assert sorted(row[6] for row in rows[1:]) == ["Customer A 医院", "Customer B 证券"]
    export = AuditEvent.objects.filter(action="export").get()
    assert export.actor_id == world.auditor.pk
    assert export.changes["format"] == "csv"

    xlsx = client.get(
        "/core/audit/export/",
        {"format": "xlsx", "action": "create", "object_type": "core.customer"},
    )
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 3


def test_audit_export_rejects_bad_input(world: World) -> None:
    client = logged_in(world.auditor)
    assert client.get("/core/audit/export/", {"format": "pdf"}).status_code == 400
    assert client.get("/core/audit/export/", {"occurred_after": "not-a-date"}).status_code == 400


def test_profile_creates_and_revokes_tokens(world: World) -> None:
    client = logged_in(world.operator_a)
    response = client.post(
        "/core/profile/", {"form": "token", "name": "grafana", "expires_in_days": "30"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="new-token">oa_' in html
    token = world.operator_a.api_tokens.get()
    assert token.expires_at is not None
    client.post(f"/core/profile/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_nobody_can_revoke_another_users_token(world: World) -> None:
    from opsassure.core.services import create_token

    token = create_token(world.customer_b_user, "theirs").token
    response = logged_in(world.manager).post(f"/core/profile/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_profile_rejects_an_unknown_time_zone(world: World) -> None:
    client = logged_in(world.operator_a)
    response = client.post(
        "/core/profile/", {"form": "profile", "time_zone": "Mars/Base", "language": "en"}
    )
    assert response.status_code == 200
    assert User.objects.get(pk=world.operator_a.pk).time_zone == "Asia/Shanghai"


def test_untrusted_text_is_escaped(world: World) -> None:
    Customer.objects.filter(pk=world.customer_a.pk).update(name="<script>alert(1)</script>")
    html = logged_in(world.manager).get("/core/customers/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unknown_page_is_a_friendly_404(world: World) -> None:
    response = logged_in(world.manager).get("/no/such/page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_dashboard_activity_chart_covers_fourteen_days(world: World) -> None:
    response = logged_in(world.auditor).get("/")
    days, counts = response.context["activity_days"], response.context["activity_counts"]
    assert len(days) == len(counts) == 14
    assert days[-1] == timezone.localdate().isoformat()
    zone = zoneinfo.ZoneInfo("Asia/Shanghai")
    midnight = timezone.now().astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    assert counts[-1] == AuditEvent.objects.filter(occurred_at__gte=midnight).count()
    assert counts[-1] > 0
    assert sum(counts[:-1]) == AuditEvent.objects.filter(occurred_at__lt=midnight).count()


@pytest.mark.django_db
def test_favicon_redirects_to_the_static_icon_and_pages_link_it(client) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("web/favicon.svg")
    assert finders.find("web/favicon.svg")
    login = client.get("/login/")
    assert b'rel="icon"' in login.content


@pytest.mark.django_db
def test_every_app_root_leads_to_its_main_page(client, world: World) -> None:  # type: ignore[no-untyped-def]
    from opsassure.core.appmodules import import_app_modules

    client.force_login(world.manager)
    for label, _module in import_app_modules("urls"):
        response = client.get(f"/{label}/", follow=True)
        assert response.status_code == 200, label
        assert response.redirect_chain or label in {"alerting", "monitoring"}, label


def _filtersets() -> list[type]:
    from django.apps import apps
    from django.utils.module_loading import module_has_submodule

    from opsassure.core.filtersets import ScopedFilterSet

    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "filtersets"):
            __import__(f"{config.name}.filtersets")
    found, todo = [], [ScopedFilterSet]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [cls for cls in found if getattr(cls._meta, "model", None)]


def test_yes_no_filters_offer_any_not_unknown(world: World) -> None:
    from django.forms import NullBooleanSelect
    from django.test import RequestFactory
    from django.utils import translation

    request = RequestFactory().get("/")
    request.user = world.manager
    checked = 0
    with translation.override("en"):
        for cls in _filtersets():
            for name, field in cls(data={}, request=request).form.fields.items():
                if isinstance(field.widget, NullBooleanSelect):
                    labels = [str(label) for _value, label in field.widget.choices]
                    assert labels == ["Any", "Yes", "No"], (cls.__name__, name, labels)
                    checked += 1
    assert checked >= 5  # alerting, servicedesk, monitoring and catalog lists have them


@pytest.mark.parametrize(("language", "label"), [("en", ">Any<"), ("zh-hans", ">不限<")])
def test_live_alert_list_flapping_filter_says_any(world: World, language: str, label: str) -> None:
    client = logged_in(world.manager)
    html = client.get("/alerting/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    flapping = html[html.index('name="flapping"') :]
    flapping = flapping[: flapping.index("</select>")]
    assert label in flapping
    assert "Unknown" not in flapping
    assert "未知" not in flapping


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01"])
def test_dates_out_of_range_get_a_400_not_a_500(world: World, start: str) -> None:
    client = logged_in(world.manager)
    client.raise_request_exception = False
    response = client.get(f"/alerting/calendar/?start={start}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "out of the supported range" in response.content.decode()


def test_a_silence_from_year_one_is_refused_and_nothing_is_written(world: World) -> None:
    from opsassure.alerting.models import Silence

    client = logged_in(world.manager)
    client.raise_request_exception = False
    response = client.post(
        "/alerting/silences/new/",
        {
            "matchers": 'alertname="X"',
            "starts_at": "0001-01-01T00:00",
            "ends_at": "2026-12-01T00:00",
            "comment": "c",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert "请填写 1970 年到 2999 年之间的日期。" in response.content.decode()
    assert not Silence.objects.exists()


def test_the_api_refuses_a_silence_from_year_one(world: World) -> None:
    from rest_framework.test import APIClient

    from opsassure.alerting.models import Silence

    client = APIClient()
    client.force_authenticate(world.manager)
    response = client.post(
        "/api/v1/alerting/silences/",
        {
            "customer": world.customer_a.pk,
            "matchers": ['alertname="X"'],
            "starts_at": "0001-01-01T00:00:00+08:00",
            "ends_at": "2026-12-01T00:00:00Z",
            "comment": "c",
        },
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "starts_at" in response.json()["error"]["fields"]
    assert not Silence.objects.exists()


def test_integration_rate_limit_has_a_ceiling(world: World) -> None:
    from opsassure.alerting.forms import IntegrationForm

    form_class: Any = IntegrationForm
    field = form_class.base_fields["rate_limit_per_minute"]
    assert field.clean(1_000_000) == 1_000_000
    with pytest.raises(ValidationError):
        field.clean(99999999999999999999)


def test_words_with_two_meanings_are_translated_by_context() -> None:
    from django.utils import translation
    from django.utils.translation import gettext, pgettext

    with translation.override("zh-hans"):
        assert gettext("Title") == "标题"  # a ticket's title
        assert pgettext("job title", "Title") == "职务"  # a contact's
        assert pgettext("mail sender", "From") == "发件人"
        assert pgettext("recipient", "To") == "收件人"
        assert (pgettext("handover", "From"), pgettext("handover", "To")) == ("交班人", "接班人")


def test_customer_contacts_show_a_job_title(world: World) -> None:
    client = logged_in(world.manager)
    html = client.get(
        f"/core/customers/{world.customer_a.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "<th>职务</th>" in html
