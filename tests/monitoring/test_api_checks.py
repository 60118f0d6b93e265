"""Checks, results, availability and probes over the API: 400 with the reason, nothing written;
tokens shown once; exact availability from the rollups; list queries do not grow with rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from opsassure.monitoring import tokens
from opsassure.monitoring.models import Monitor, Probe
from tests.conftest import World, api_as
from tests.monitoring.helpers_ui import hourly, make_check, make_ci, result

pytestmark = pytest.mark.django_db
URL = "/api/v1/monitoring/checks/"


def _body(world: World, **changes: Any) -> dict[str, Any]:
    return {
        "customer": world.customer_a.pk,
        "name": "HIS portal",
        "kind": "http",
        "target": "https://his.example.cn/health",
        "interval_seconds": 30,
        "timeout_seconds": 5,
        "settings": {"keyword": "ok"},
        **changes,
    }


def test_create_update_and_refusals(world: World) -> None:
    client = api_as(world.engineer_a)
    bad = client.post(
        URL, _body(world, settings={"json_path": "$$$"}, interval_seconds=2, timeout_seconds=1)
    )
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert error["code"] == "invalid_check"
    assert set(error["fields"]) == {"settings.json_path", "interval_seconds"}
    assert "does not parse" in error["fields"]["settings.json_path"][0]
    unknown = client.post(URL, _body(world, kind="dns", settings={"record_type": "XYZ"}))
    assert unknown.status_code == 400
    assert unknown.json()["error"]["fields"]["settings.record_type"][0].startswith(
        "Unknown record type XYZ"
    )
    assert Monitor.objects.count() == 0

    created = client.post(URL, _body(world))
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["config_version"], body["state"], body["customer"]) == (
        1,
        "unknown",
        world.customer_a.pk,
    )
    detail = f"{URL}{body['id']}/"
    changed = client.patch(detail, {"target": "https://his2.example.cn/"})
    assert changed.status_code == 200
    assert (changed.json()["target"], changed.json()["config_version"]) == (
        "https://his2.example.cn/",
        2,
    )
    refused = client.patch(detail, {"timeout_seconds": 60})
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {
        "timeout_seconds": ["The timeout must be shorter than the interval."]
    }
    monitor = Monitor.objects.get()
    assert (monitor.timeout_seconds, monitor.config_version) == (5.0, 2)
    moved = client.patch(detail, {"customer": world.customer_b.pk})
    assert moved.status_code == 400
    assert Monitor.objects.get().customer_id == world.customer_a.pk
    assert client.delete(detail).status_code == 403  # engineers change, managers delete
    assert api_as(world.manager).delete(detail).status_code == 204
    assert Monitor.objects.count() == 0


def test_customer_users_write_their_own_customer_only(world: World) -> None:
    admin = api_as(world.customer_a_admin)
    theirs = admin.post(URL, _body(world, customer=world.customer_b.pk))
    assert theirs.status_code == 400
    assert "customer" in theirs.json()["error"]["fields"]
    own = admin.post(URL, {k: v for k, v in _body(world).items() if k != "customer"})
    assert own.status_code == 201
    assert Monitor.objects.get().customer_id == world.customer_a.pk
    reader = api_as(world.customer_a_user)
    assert reader.post(URL, _body(world, name="x")).status_code == 403
    assert reader.get(URL).json()["count"] == 1
    assert api_as(world.customer_b_user).get(URL).json()["count"] == 0
    assert Monitor.objects.count() == 1


def test_bulk_create_by_ci_type(world: World) -> None:
    make_ci(world.customer_a, "web1", "10.1.0.11")
    make_ci(world.customer_a, "bare")
    make_ci(world.customer_b, "theirs", "10.2.0.11")
    client = api_as(world.engineer_a)
    response = client.post(
        f"{URL}bulk-create/",
        {
            "customer": world.customer_a.pk,
            "kind": "icmp",
            "ci_type": "server",
            "template": {"interval_seconds": 30, "timeout_seconds": 2},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body["created"]) == 1
    assert [item["reason"] for item in body["skipped"]] == ["has no IP address or host name"]
    assert list(Monitor.objects.values_list("target", "interval_seconds")) == [("10.1.0.11", 30)]
    bad = client.post(
        f"{URL}bulk-create/",
        {
            "customer": world.customer_a.pk,
            "kind": "icmp",
            "ci_type": "server",
            "template": {"interval_seconds": 1},
        },
    )
    assert bad.status_code == 400
    assert "interval_seconds" in bad.json()["error"]["fields"]
    nothing = client.post(f"{URL}bulk-create/", {"customer": world.customer_a.pk, "kind": "icmp"})
    assert nothing.status_code == 400
    assert Monitor.objects.count() == 1


def test_availability_from_rollups_and_chart(world: World) -> None:
    monitor = make_check(world.customer_a, "his")
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    hourly(monitor, hour - dt.timedelta(hours=2), total=60, up=60)
    hourly(monitor, hour - dt.timedelta(hours=1), total=60, up=30)
    hourly(monitor, hour - dt.timedelta(days=3), total=40, up=10)
    client = api_as(world.customer_a_user)
    url = f"{URL}{monitor.pk}/availability/"
    assert client.get(url, {"window": "24h"}).json()["availability"] == 75.0
    assert client.get(url, {"window": "7d"}).json()["availability"] == 62.5
    start = (hour - dt.timedelta(hours=2)).isoformat()
    end = (hour - dt.timedelta(hours=1)).isoformat()
    assert client.get(url, {"start": start, "end": end}).json()["availability"] == 100.0
    assert client.get(url, {"window": "1y"}).status_code == 400
    assert client.get(url, {"start": "yesterday", "end": end}).status_code == 400
    assert client.get(url, {"start": end, "end": start}).status_code == 400
    empty = make_check(world.customer_a, "empty")
    assert client.get(f"{URL}{empty.pk}/availability/").json()["availability"] is None

    result(monitor, now - dt.timedelta(minutes=3), 0, 20.0)
    result(monitor, now - dt.timedelta(minutes=2), 2, None)
    result(monitor, now - dt.timedelta(minutes=1), 1, 40.0)
    chart = client.get(f"{URL}{monitor.pk}/chart/", {"window": "24h"}).json()
    assert chart["summary"] == {
        "availability": 66.667,
        "runs": 3,
        "failed": 1,
        "avg_ms": 30.0,
        "max_ms": 40.0,
    }
    assert [point[1] for point in chart["response"]] == [20.0, None, 40.0]
    assert len(chart["down"]) == 1
    results = client.get("/api/v1/monitoring/results/", {"monitor": monitor.pk}).json()
    assert [row["status"] for row in results["results"]] == [1, 2, 0]
    assert api_as(world.customer_b_user).get(url).status_code in {403, 404}


def test_probe_token_is_in_the_create_answer_only(world: World) -> None:
    manager = api_as(world.manager)
    created = manager.post("/api/v1/monitoring/probes/", {"name": "idc-sh", "zone": "Shanghai IDC"})
    assert created.status_code == 201, created.content
    token = created.json()["token"]
    probe = Probe.objects.get(name="idc-sh")
    assert tokens.authenticate_probe(token) == probe
    listed = manager.get("/api/v1/monitoring/probes/").content.decode()
    assert token not in listed
    assert "secret_hash" not in listed
    assert manager.get(f"/api/v1/monitoring/probes/{probe.pk}/").json()["health"] == "never"
    rotated = manager.post(f"/api/v1/monitoring/probes/{probe.pk}/rotate/")
    assert rotated.status_code == 200
    assert tokens.authenticate_probe(token) is None
    assert tokens.authenticate_probe(rotated.json()["token"]) == probe
    revoked = manager.post(f"/api/v1/monitoring/probes/{probe.pk}/revoke/")
    assert revoked.json()["health"] == "revoked"
    engineer = api_as(world.engineer_a)
    assert engineer.post("/api/v1/monitoring/probes/", {"name": "x"}).status_code == 403
    assert engineer.post(f"/api/v1/monitoring/probes/{probe.pk}/rotate/").status_code == 403
    assert api_as(world.customer_a_admin).get("/api/v1/monitoring/probes/").status_code == 403
    assert Probe.objects.count() == 1


def test_list_queries_do_not_grow_with_rows(world: World, django_assert_num_queries: Any) -> None:
    probe, _token = tokens.create_probe(name="idc-sh")
    for index in range(3):
        make_check(world.customer_a, f"c{index}", probes=[probe])
    client = api_as(world.engineer_a)
    client.get(URL)  # warm the session and permission caches
    with django_assert_num_queries(8) as few:
        assert client.get(URL).json()["count"] == 3
    for index in range(3, 25):
        make_check(world.customer_a, f"c{index}", probes=[probe])
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(URL).json()["count"] == 25
