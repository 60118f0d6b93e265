"""Monitoring pages: overview counts, checks list (HTMX rows), detail with chart data, the
check form (400 with the reason, nothing written), bulk create, probe token shown once, the
CI page's monitoring panel, the demo targets and the demo data."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from opsassure.monitoring import views_demo
from opsassure.monitoring.models import CheckRollup, CheckState, Monitor, Probe
from tests.conftest import PASSWORD, World
from tests.monitoring.helpers_ui import hourly, make_check, make_ci, result

pytestmark = pytest.mark.django_db


def _login(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _count(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">\s*([^<]*)<', html)
    assert match, testid
    return match.group(1).strip()


def _states(world: World) -> dict[str, Monitor]:
    checks = {}
    for name, state in [("down1", "down"), ("down2", "down"), ("slow", "degraded"), ("ok", "up")]:
        checks[name] = make_check(world.customer_a, name)
        Monitor.objects.filter(pk=checks[name].pk).update(
            state=state, state_since=timezone.now(), last_response_ms=100.0
        )
    checks["new"] = make_check(world.customer_a, "new")
    checks["paused"] = make_check(world.customer_a, "paused", enabled=False)
    checks["theirs"] = make_check(world.customer_b, "theirs")
    Monitor.objects.filter(pk=checks["theirs"].pk).update(state=CheckState.DOWN)
    return checks


def test_overview_counts_per_customer_and_scope(world: World) -> None:
    _states(world)
    html = _login(world.manager).get("/monitoring/").content.decode()
    assert [
        _count(html, f"count-{s}") for s in ("down", "degraded", "up", "unknown", "paused")
    ] == [
        "3",
        "1",
        "1",
        "1",
        "1",
    ]
    assert html.count('data-testid="customer-row"') == 2
    assert html.count('data-testid="failing-check"') == 4
    own = _login(world.customer_a_user).get("/monitoring/")
    assert own.status_code == 200
    text = own.content.decode()
    assert _count(text, "count-down") == "2"
    assert "theirs" not in text
    assert world.customer_b.name not in text
    picked = _login(world.manager).get(f"/monitoring/?customer={world.customer_b.pk}")
    assert _count(picked.content.decode(), "count-down") == "1"
    rows = _login(world.manager).get("/monitoring/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in rows
    assert 'data-testid="count-down"' in rows
    assert _login(world.outsider).get("/monitoring/").status_code == 403


def test_check_list_filters_htmx_rows_and_beats(world: World) -> None:
    checks = _states(world)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    hourly(checks["ok"], hour, total=60, up=60)
    hourly(checks["ok"], hour - dt.timedelta(hours=1), total=60, up=57)
    client = _login(world.engineer_a)
    page = client.get("/monitoring/checks/").content.decode()
    assert page.count('data-testid="check-row"') == 6
    assert 'hx-trigger="every 15s"' in page
    assert "theirs" not in page
    down = client.get("/monitoring/checks/?state=down&enabled=true", HTTP_HX_REQUEST="true")
    text = down.content.decode()
    assert "<html" not in text
    assert text.count('data-testid="check-row"') == 2
    row = client.get("/monitoring/checks/?q=ok", HTTP_HX_REQUEST="true").content.decode()
    assert row.count('data-testid="check-row"') == 1
    assert row.count("mon-beat mon-up") == 1  # this hour: 60 of 60
    assert row.count("mon-beat mon-down") == 1  # the hour before: 3 of 60 failed
    assert "97.50%" in row  # (60 + 57) / 120


def test_check_list_queries_do_not_grow(world: World, django_assert_num_queries: Any) -> None:
    for index in range(3):
        make_check(world.customer_a, f"c{index}")
    client = _login(world.engineer_a)
    client.get("/monitoring/checks/")
    with django_assert_num_queries(10) as few:
        client.get("/monitoring/checks/")
    for index in range(3, 30):
        make_check(world.customer_a, f"c{index}")
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get("/monitoring/checks/").content.decode().count('"check-row"') == 30


def test_check_detail_embeds_chart_data_in_the_users_zone(world: World) -> None:
    monitor = make_check(world.customer_a, "his")
    at = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    result(monitor, at, 0, 25.0)
    result(monitor, at + dt.timedelta(minutes=1), 2, None)
    client = _login(world.engineer_a)
    page = client.get(f"/monitoring/checks/{monitor.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    match = re.search(r'id="check-chart-data" type="application/json">(.*?)</script>', html)
    assert match
    data = json.loads(match.group(1))
    # Asia/Shanghai (the default zone): wall clock = UTC + 8 h.
    assert data["response"][0] == [int(at.timestamp()) * 1000 + 8 * 3600 * 1000, 25.0]
    assert data["summary"]["runs"] == 2
    assert data["summary"]["failed"] == 1
    assert "vendor/echarts/echarts.min.js" in html
    assert "https://" not in re.sub(r"https://his\.example\.cn/health", "", html.split("<body")[1])
    week = client.get(f"/monitoring/checks/{monitor.pk}/chart/?window=7d").json()
    assert week["window"] == "7d"
    assert week["response"] == []
    assert _login(world.customer_b_user).get(f"/monitoring/checks/{monitor.pk}/").status_code in {
        403,
        404,
    }
    assert (
        client.get(f"/monitoring/checks/{monitor.pk}/chart/?window=24h").json()["summary"]["runs"]
        == 2
    )


def test_check_form_refuses_with_the_reason_and_saves(world: World) -> None:
    client = _login(world.engineer_a)
    assert client.get("/monitoring/checks/new/").status_code == 200
    form = {
        "name": "HIS API",
        "customer": world.customer_a.pk,
        "kind": "http",
        "target": "https://his.example.cn/api",
        "interval_seconds": 60,
        "timeout_seconds": 5,
        "retries": 0,
        "failure_threshold": 2,
        "success_threshold": 1,
        "severity": "critical",
        "enabled": "on",
        "json_path": "$.a[",
        "expected_status": "2xx, 301",
        "method": "GET",
        "labels": "system=HIS",
        "follow_redirects": "on",
    }
    refused = client.post("/monitoring/checks/new/", form)
    assert refused.status_code == 400
    assert 'data-testid="error-json_path"' in refused.content.decode()
    assert "does not parse" in refused.content.decode()
    assert Monitor.objects.count() == 0
    form["json_path"] = "$.status"
    form["json_expected"] = '"ok"'
    saved = client.post("/monitoring/checks/new/", form)
    assert saved.status_code == 302
    monitor = Monitor.objects.get()
    assert monitor.settings == {
        "expected_status": ["2xx", 301],
        "json_path": "$.status",
        "json_expected": "ok",
    }
    assert monitor.labels == {"system": "HIS"}
    edit = client.get(f"/monitoring/checks/{monitor.pk}/edit/").content.decode()
    assert 'value="$.status"' in edit
    form["interval_seconds"] = 30
    assert client.post(f"/monitoring/checks/{monitor.pk}/edit/", form).status_code == 302
    monitor.refresh_from_db()
    assert (monitor.interval_seconds, monitor.config_version) == (30, 2)
    assert (
        client.post(f"/monitoring/checks/{monitor.pk}/enabled/", {"enabled": "0"}).status_code
        == 302
    )
    monitor.refresh_from_db()
    assert monitor.enabled is False
    assert client.post(f"/monitoring/checks/{monitor.pk}/delete/").status_code == 403
    assert _login(world.manager).post(f"/monitoring/checks/{monitor.pk}/delete/").status_code == 302
    assert Monitor.objects.count() == 0


def test_bulk_page_creates_and_reports_skips(world: World) -> None:
    make_ci(world.customer_a, "web1", "10.1.0.11")
    make_ci(world.customer_a, "bare")
    from opsassure.cmdb.models import CIType

    server = CIType.objects.get(code="server")
    client = _login(world.engineer_a)
    form = {
        "customer": world.customer_a.pk,
        "kind": "icmp",
        "ci_type": server.pk,
        "interval_seconds": 60,
        "timeout_seconds": 5,
        "failure_threshold": 2,
        "severity": "warning",
    }
    page = client.post("/monitoring/checks/bulk/", form)
    assert page.status_code == 200
    html = page.content.decode()
    assert "1 created, 1 skipped" in html
    assert "bare: has no IP address or host name" in html
    assert list(Monitor.objects.values_list("name", "severity")) == [
        ("web1 · ICMP ping", "warning")
    ]
    refused = client.post("/monitoring/checks/bulk/", {**form, "ci_type": ""})
    assert refused.status_code == 400
    assert Monitor.objects.count() == 1


def test_probe_page_shows_the_token_once(world: World) -> None:
    client = _login(world.manager)
    created = client.post("/monitoring/probes/", {"name": "idc-sh", "zone": "Shanghai IDC"})
    assert created.status_code == 200
    html = created.content.decode()
    token = re.search(r'data-testid="token">(opsp_[^<]+)<', html)
    assert token
    assert f"opsassure probe --server http://testserver --token {token.group(1)}" in html
    listing = client.get("/monitoring/probes/").content.decode()
    assert token.group(1) not in listing
    assert "idc-sh" in listing
    assert 'data-verdict="never"' in listing
    duplicate = client.post("/monitoring/probes/", {"name": "idc-sh"})
    assert duplicate.status_code == 400
    assert Probe.objects.count() == 1
    assert _login(world.engineer_a).post("/monitoring/probes/", {"name": "x"}).status_code == 403
    assert _login(world.customer_a_admin).get("/monitoring/probes/").status_code == 403


def test_ci_page_loads_the_monitoring_panel(world: World) -> None:
    ci = make_ci(world.customer_a, "web1", "10.1.0.11")
    make_check(world.customer_a, "web1 ping", kind="icmp", target="10.1.0.11", ci=ci)
    client = _login(world.engineer_a)
    page = client.get(f"/cmdb/cis/{ci.pk}/").content.decode()
    assert f'hx-get="/monitoring/ci/{ci.pk}/panel/"' in page
    panel = client.get(f"/monitoring/ci/{ci.pk}/panel/").content.decode()
    assert "web1 ping" in panel
    assert 'data-testid="no-metrics"' in panel
    theirs = make_ci(world.customer_b, "theirs", "10.2.0.1")
    assert client.get(f"/monitoring/ci/{theirs.pk}/panel/").status_code == 404
    # Without the monitoring permission the CI page shows no panel at all.
    outsider_page = _login(world.outsider).get(f"/cmdb/cis/{ci.pk}/")
    assert "/monitoring/ci/" not in outsider_page.content.decode()


def test_demo_targets_answer_only_with_the_demo_loaded(
    settings: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    settings.DATA_DIR = tmp_path
    client = Client()
    assert client.get("/monitoring/demo-target/flappy/").status_code == 404
    (tmp_path / views_demo.DEMO_MARKER).write_text("1\n")
    monkeypatch.setattr(views_demo.time, "time", lambda: 180.0 * 10 + 5)
    assert client.get("/monitoring/demo-target/flappy/").status_code == 200
    monkeypatch.setattr(views_demo.time, "time", lambda: 180.0 * 11 + 5)
    assert client.get("/monitoring/demo-target/flappy/").status_code == 503
    monkeypatch.setattr(views_demo.time, "sleep", lambda seconds: None)
    assert client.get("/monitoring/demo-target/slow/").json() == {"status": "ok", "slow": True}
    assert client.get("/monitoring/demo-target/other/").status_code == 404


def test_demo_data_checks_history_and_idempotence() -> None:
    from opsassure.core.demo import load_demo
    from opsassure.monitoring.demo import CHECKS

    load_demo()
    checks = Monitor.objects.filter(customer__code="JCH")
    assert checks.count() == len(CHECKS) == 5
    flappy = checks.get(labels__demo="flappy")
    assert flappy.ci is not None
    assert flappy.target.endswith("/monitoring/demo-target/flappy/")
    hours = CheckRollup.objects.filter(monitor=flappy, period="h")
    assert 30 * 24 <= hours.count() <= 30 * 24 + 1
    # Up three minutes, down three: half of every hour's runs (60 a minute-apart) fail.
    totals = [(row.total, row.down) for row in list(hours.order_by("bucket"))[1:-1]]
    assert all(total == 60 and down == 30 for total, down in totals)
    assert flappy.results.count() == 24 * 60
    slow = checks.get(labels__demo="slow")
    assert slow.state == "degraded"
    from opsassure.alerting.models import RoutingRule
    from opsassure.monitoring.models import MetricSeries, ThresholdRule

    assert RoutingRule.objects.filter(matchers=['alertname="CheckDown"']).count() == 1
    assert ThresholdRule.objects.filter(customer__code="JCH").count() == 2
    assert MetricSeries.objects.filter(ci__name="his-db-srv01").count() == 7
    counts = (Monitor.objects.count(), CheckRollup.objects.count(), MetricSeries.objects.count())
    load_demo()
    assert (
        Monitor.objects.count(),
        CheckRollup.objects.count(),
        MetricSeries.objects.count(),
    ) == counts
