"""Alerting pages and API: live list, group detail (escaping), integrations, silences."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client, TestCase
from django.utils import timezone

from opsassure.alerting.models import Alert, AlertGroup, Integration, MaintenanceWindow, Silence
from tests.alerting.helpers import am_alert, am_payload, post
from tests.conftest import PASSWORD, World, api_as

pytestmark = pytest.mark.django_db


def _login(world: World, user_attr: str = "engineer_a") -> Client:
    client = Client()
    assert client.login(username=getattr(world, user_attr).username, password=PASSWORD)
    return client


def test_live_list_and_htmx_rows(world: World, am: Integration) -> None:
    post(Client(), am, am_payload(am_alert(fingerprint="v1")))
    client = _login(world)
    page = client.get("/alerting/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'hx-trigger="every 10s"' in html
    assert "alertname=HighCPU" in html
    rows = client.get("/alerting/", HTTP_HX_REQUEST="true")
    assert rows.status_code == 200
    assert rows.content.decode().count('data-testid="group-row"') == 1
    assert "<html" not in rows.content.decode()
    resolved = client.get("/alerting/?state=resolved")
    assert resolved.content.decode().count('data-testid="group-row"') == 0


def test_group_detail_escapes_labels_and_acknowledges(world: World, am: Integration) -> None:
    evil = '<script>alert("x")</script>'
    post(Client(), am, am_payload(am_alert(instance=evil, fingerprint="v2")))
    group = AlertGroup.objects.get()
    client = _login(world)
    html = client.get(group.get_absolute_url()).content.decode()
    assert evil not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert 'data-testid="acknowledge"' in html
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/alerting/groups/{group.pk}/acknowledge/")
    assert response.status_code == 302
    group.refresh_from_db()
    assert (group.state, group.acknowledged_by_id) == ("acknowledged", world.engineer_a.pk)


def test_customer_b_cannot_see_or_acknowledge_customer_a_group(
    world: World, am: Integration
) -> None:
    post(Client(), am, am_payload(am_alert(fingerprint="v3")))
    group = AlertGroup.objects.get()
    client = _login(world, "customer_b_user")
    assert client.get(group.get_absolute_url()).status_code == 404
    assert api_as(world.customer_b_user).post(
        f"/api/v1/alerting/groups/{group.pk}/acknowledge/"
    ).status_code in (403, 404)
    group.refresh_from_db()
    assert group.state == "firing"


@pytest.mark.parametrize("kind", ["alertmanager", "grafana", "zabbix", "n9e", "events_v2"])
def test_integration_page_shows_url_and_snippet(world: World, kind: str) -> None:
    integration = Integration.objects.create(name=f"I-{kind}", kind=kind, customer=world.customer_a)
    client = _login(world, "manager")
    html = client.get(integration.get_absolute_url()).content.decode()
    url = f"http://testserver/api/v1/alerting/ingest/{integration.token}/"
    assert f'value="{url}"' in html
    assert html.count(url) >= 2  # the field and the snippet
    assert 'data-testid="send-test"' in html


def test_send_test_alert_button(world: World) -> None:
    integration = Integration.objects.create(name="I", kind="grafana", customer=world.customer_a)
    client = _login(world, "manager")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/alerting/integrations/{integration.pk}/test/")
    assert response.status_code == 302
    alert = Alert.objects.get()
    assert alert.labels["opsassure_test"] == "true"
    group = AlertGroup.objects.get()
    assert (group.action, group.incident_id) == ("notify", None)


def test_create_integration_in_ui_stores_bearer_hashed(world: World) -> None:
    client = _login(world, "manager")
    response = client.post(
        "/alerting/integrations/new/",
        {
            "customer": world.customer_a.pk,
            "name": "New AM",
            "kind": "alertmanager",
            "bearer_token": "tok-123",
            "rate_limit_per_minute": 60,
            "group_by": "alertname, cluster",
        },
    )
    assert response.status_code == 302
    integration = Integration.objects.get(name="New AM")
    assert integration.bearer_token_hash != "tok-123"
    assert integration.bearer_matches("tok-123") is True
    assert integration.group_by == ["alertname", "cluster"]


def test_engineer_cannot_create_provider_wide_silence(world: World) -> None:
    now = timezone.now()
    body = {
        "matchers": ['alertname="X"'],
        "starts_at": now.isoformat(),
        "ends_at": (now + dt.timedelta(hours=1)).isoformat(),
        "comment": "c",
    }
    response = api_as(world.engineer_a).post("/api/v1/alerting/silences/", body, format="json")
    assert response.status_code == 400
    assert "customer" in response.json()["error"]["fields"]
    assert Silence.objects.count() == 0
    ok = api_as(world.engineer_a).post(
        "/api/v1/alerting/silences/", {**body, "customer": world.customer_a.pk}, format="json"
    )
    assert ok.status_code == 201, ok.content
    bad = api_as(world.engineer_a).post(
        "/api/v1/alerting/silences/",
        {**body, "customer": world.customer_a.pk, "matchers": ["nope"]},
        format="json",
    )
    assert bad.status_code == 400
    assert Silence.objects.count() == 1


def test_silence_and_maintenance_forms_and_calendar(world: World) -> None:
    client = _login(world)
    response = client.post(
        "/alerting/silences/new/",
        {
            "customer": world.customer_a.pk,
            "matchers": 'alertname="HighCPU"\ninstance=~"web-.*"',
            "starts_at": "2026-11-27T10:00",
            "ends_at": "2026-11-27T12:00",
            "comment": "deploy",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    silence = Silence.objects.get()
    assert silence.matchers == ['alertname="HighCPU"', 'instance=~"web-.*"']
    assert silence.starts_at == dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)  # Asia/Shanghai
    response = client.post(
        "/alerting/maintenance/new/",
        {
            "customer": world.customer_a.pk,
            "name": "weekly",
            "matchers": 'job="db"',
            "starts_at": "2026-11-29T02:00",
            "ends_at": "2026-11-29T04:00",
            "recurrence": "weekly",
            "weekdays": ["6"],
            "time_zone": "Asia/Shanghai",
            "include_dependents": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    window = MaintenanceWindow.objects.get()
    assert (window.recurrence, window.weekdays) == ("weekly", [6])
    calendar = client.get("/alerting/calendar/?start=2026-11-23").content.decode()
    assert calendar.count('title="weekly"') == 2  # Sunday 02:00 and 03:00
    bad = client.post(
        "/alerting/silences/new/",
        {
            "customer": world.customer_a.pk,
            "matchers": "not a matcher",
            "starts_at": "2026-11-27T10:00",
            "ends_at": "2026-11-27T09:00",
            "comment": "x",
        },
    )
    assert bad.status_code == 400  # refused: the form again, nothing written
    assert Silence.objects.count() == 1


def test_api_lists_query_count_does_not_grow(world: World, am: Integration) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_as(world.manager)
    post(Client(), am, am_payload(am_alert(fingerprint="q1")))
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/alerting/groups/").status_code == 200
        assert client.get("/api/v1/alerting/alerts/").status_code == 200
    alerts = [am_alert(instance=f"h{i}:1", fingerprint=f"q{i}x") for i in range(30)]
    post(Client(), am, am_payload(*alerts, group_key="other"))
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/alerting/groups/").json()["results"]) == 2
        assert len(client.get("/api/v1/alerting/alerts/").json()["results"]) == 31
    assert len(many) == len(few)


def test_live_list_warns_provider_staff_of_alerts_waiting_for_a_worker(
    world: World, am: Integration
) -> None:
    from opsassure.alerting import ingest
    from opsassure.alerting.models import IngestBatch
    from opsassure.alerting.payloads import parse

    staff = _login(world)
    assert 'data-testid="ingest-backlog"' not in staff.get("/alerting/").content.decode()
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    payload = am_payload(am_alert(fingerprint="w1"), am_alert(fingerprint="w2"))
    batch = ingest.accept(am, parse("alertmanager", payload, long_ago), now=long_ago)
    html = staff.get("/alerting/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="ingest-backlog"' in html
    shown = timezone.localtime(long_ago).strftime("%Y-%m-%d %H:%M:%S")  # the user's zone
    assert (
        f"2 accepted alerts (1 requests) have waited for a worker, the oldest since {shown}" in html
    )
    zh = staff.get("/alerting/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"2 条已接收的告警（1 个请求）在等待后台任务处理，最早的自 {shown} 起" in zh
    customer = _login(world, "customer_a_user")  # counts span every customer: staff only
    assert 'data-testid="ingest-backlog"' not in customer.get("/alerting/").content.decode()
    IngestBatch.objects.filter(pk=batch.pk).update(processed_at=timezone.now())
    assert 'data-testid="ingest-backlog"' not in staff.get("/alerting/").content.decode()


def test_silence_list_expires_a_silence_and_reads_as_words(world: World) -> None:
    now = timezone.now()
    silence = Silence.objects.create(
        customer=world.customer_a,
        matchers=['alertname="HighMemory"', 'severity="warning"'],
        starts_at=now - dt.timedelta(minutes=5),
        ends_at=now + dt.timedelta(days=3650),
        comment="forever, by mistake",
    )
    client = _login(world)
    html = client.get("/alerting/silences/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "alertname=&quot;HighMemory&quot;, severity=&quot;warning&quot;" in html
    shanghai = timezone.localtime(silence.starts_at, timezone=dt.timezone(dt.timedelta(hours=8)))
    assert shanghai.strftime("%Y-%m-%d %H:%M") in html  # the user's zone, one format
    assert "[" not in html.split('data-testid="object-list"')[1].split("</table>")[0]
    assert f"/alerting/silences/{silence.pk}/expire/" in html
    response = client.post(f"/alerting/silences/{silence.pk}/expire/")
    assert response.status_code == 302
    silence.refresh_from_db()
    assert silence.ends_at <= timezone.now()
    html = client.get("/alerting/silences/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"/alerting/silences/{silence.pk}/expire/" not in html


def test_another_customers_silence_cannot_be_expired(world: World) -> None:
    now = timezone.now()
    theirs = Silence.objects.create(
        customer=world.customer_b,
        matchers=['alertname="X"'],
        starts_at=now,
        ends_at=now + dt.timedelta(hours=1),
        comment="theirs",
    )
    response = _login(world).post(f"/alerting/silences/{theirs.pk}/expire/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.ends_at > timezone.now()


def test_customer_user_sees_no_new_button_without_the_right(world: World) -> None:
    client = Client()
    client.force_login(world.customer_a_user)
    now = timezone.now()
    Silence.objects.create(
        customer=world.customer_a,
        matchers=['alertname="X"'],
        starts_at=now,
        ends_at=now + dt.timedelta(hours=1),
        comment="ours",
    )
    response = client.get("/alerting/silences/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "ours" in html
    assert 'data-testid="create"' not in html
    assert 'data-testid="expire"' not in html
