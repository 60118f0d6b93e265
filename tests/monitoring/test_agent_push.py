"""The agent push endpoint: CI match, samples, facts → CMDB discovery, dedup, refusals."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client, TestCase
from django.utils import timezone

from opsassure.alerting.models import AlertGroup
from opsassure.cmdb.models import ConfigurationItem, Discovery, Discrepancy
from opsassure.monitoring import tokens
from opsassure.monitoring.models import Agent, AgentToken, MetricSeries, Sample, ThresholdRule
from tests.conftest import World
from tests.factories import _ci

pytestmark = pytest.mark.django_db

URL = "/api/v1/monitoring/agent/push/"


def _post(client: Client, token: str, payload: Any, *, raw: bytes | None = None) -> Any:
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(URL, data=body, content_type="application/json", **headers)


def _point(ts: dt.datetime, cpu: float = 12.5) -> dict[str, Any]:
    return {
        "ts": ts.isoformat(),
        "metrics": [
            {"name": "cpu_percent", "value": cpu, "unit": "%"},
            {"name": "mem_used_percent", "value": 40.0, "unit": "%"},
            {"name": "disk_used_percent", "dimension": "/", "value": 71.5, "unit": "%"},
            {"name": "disk_used_percent", "dimension": "/data", "value": 20.0, "unit": "%"},
        ],
    }


def _push(hostname: str, points: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "hostname": hostname,
        "addresses": ["10.9.8.7"],
        "version": "1.0",
        "interval": 30,
        "points": points,
        **extra,
    }


FACTS = {
    "os": "Debian GNU/Linux 12",
    "kernel": "6.1.0-18",
    "cpu_count": 8,
    "memory_bytes": 16 * 2**30,
    "serial": "SN-123",
}


def _nothing_stored() -> None:
    assert Agent.objects.count() == 0
    assert MetricSeries.objects.count() == 0
    assert Sample.objects.count() == 0
    assert Discovery.objects.count() == 0


def test_push_matches_the_ci_stores_samples_and_records_changed_facts(world: World) -> None:
    ci = _ci(world.customer_a, name="web01")
    ConfigurationItem.objects.filter(pk=ci.pk).update(hostname="web01.example.com")
    _ci(world.customer_b, name="web01-b")  # same host name at another customer: never a match
    ConfigurationItem.objects.filter(name="web01-b").update(hostname="web01.example.com")
    row, token = tokens.create_agent_token(customer=world.customer_a, name="fleet")
    now = timezone.now().replace(microsecond=0)
    points = [
        _point(now - dt.timedelta(seconds=60)),
        _point(now - dt.timedelta(seconds=30)),
        _point(now + dt.timedelta(hours=1)),  # far in the future: refused
        _point(now - dt.timedelta(days=8)),  # past the raw retention: refused
    ]
    client = Client()
    answer = _post(client, token, _push("WEB01.example.com", points, facts=FACTS))
    assert answer.status_code == 200, answer.content
    agent = Agent.objects.get()
    assert answer.json() == {
        "agent": agent.pk,
        "ci": ci.pk,
        "accepted": 8,
        "duplicates": 0,
        "refused": [
            {"index": 2, "reason": "timestamp is in the future"},
            {"index": 3, "reason": "older than the retention period"},
        ],
    }
    assert (agent.customer_id, agent.hostname, agent.ci_id) == (
        world.customer_a.pk,
        "web01.example.com",
        ci.pk,
    )
    assert agent.addresses == ["10.9.8.7"]
    assert agent.facts == FACTS
    series = {(s.name, s.dimension): s for s in MetricSeries.objects.all()}
    assert sorted(series) == [
        ("cpu_percent", ""),
        ("disk_used_percent", "/"),
        ("disk_used_percent", "/data"),
        ("mem_used_percent", ""),
    ]
    assert all(s.ci_id == ci.pk and s.customer_id == world.customer_a.pk for s in series.values())
    assert series[("cpu_percent", "")].unit == "%"
    assert series[("cpu_percent", "")].last_at == now - dt.timedelta(seconds=30)
    assert Sample.objects.count() == 8
    assert AgentToken.objects.get(pk=row.pk).last_used_at is not None

    record = Discovery.objects.get()
    assert (record.source, record.customer_id, record.ci_id, record.matched_by) == (
        "opsassure-agent",
        world.customer_a.pk,
        ci.pk,
        "hostname",
    )
    assert record.facts == {
        "hostname": "web01.example.com",
        "ip_addresses": ["10.9.8.7"],
        "os": "Debian GNU/Linux 12",
        "cpu_count": 8,
        "serial_number": "SN-123",
        "attr:kernel": "6.1.0-18",
        "memory_gb": 16,
    }
    open_fields = set(
        Discrepancy.objects.filter(ci=ci, status="open").values_list("field", flat=True)
    )
    # The CI recorded none of these (its address was a random 10.x one): all are discrepancies
    # except the kernel, which the server type has no attribute for.
    assert open_fields == {
        "ip_addresses",
        "attr:os",
        "attr:cpu_count",
        "serial_number",
        "attr:memory_gb",
    }

    # The same push again (the agent lost the answer): nothing is counted twice, and the
    # unchanged facts make no new discovery record.
    again = _post(client, token, _push("web01.example.com", points, facts=FACTS))
    assert again.json()["accepted"] == 0
    assert again.json()["duplicates"] == 8
    assert Sample.objects.count() == 8
    assert Discovery.objects.count() == 1

    changed = {**FACTS, "cpu_count": 16}
    third = _post(client, token, _push("web01.example.com", [], facts=changed))
    assert third.status_code == 200
    assert Discovery.objects.count() == 2
    assert Agent.objects.get().facts["cpu_count"] == 16


def test_match_by_address_and_short_host_name_within_the_customer(world: World) -> None:
    by_ip = _ci(world.customer_a, name="db01")
    ConfigurationItem.objects.filter(pk=by_ip.pk).update(hostname="db01")
    by_ip.refresh_from_db()
    address = by_ip.addresses.get().address
    short = _ci(world.customer_a, name="app")
    ConfigurationItem.objects.filter(pk=short.pk).update(hostname="app07")
    _row, token = tokens.create_agent_token(customer=world.customer_a, name="t")
    client = Client()
    first = _post(client, token, {**_push("other-name", []), "addresses": [address]})
    assert first.json()["ci"] == by_ip.pk
    second = _post(client, token, {**_push("app07.corp.example", []), "addresses": []})
    assert second.json()["ci"] == short.pk
    unknown = _post(client, token, {**_push("nobody", []), "addresses": ["192.0.2.1"]})
    assert unknown.json()["ci"] is None
    assert Agent.objects.count() == 3


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer opsa_nokey",
        "Bearer opsa_{key}_wrongsecret",
        "Bearer opsp_{key}_{secret}",
        "Basic {token}",
        "Bearer {revoked}",
    ],
)
def test_wrong_missing_or_revoked_token_is_401_and_stores_nothing(
    world: World, header: str
) -> None:
    row, token = tokens.create_agent_token(customer=world.customer_a, name="t")
    revoked_row, revoked = tokens.create_agent_token(customer=world.customer_a, name="old")
    assert tokens.revoke(revoked_row)
    key, secret = token.removeprefix("opsa_").split("_", 1)
    value = header.format(key=key, secret=secret, token=token, revoked=revoked)
    headers = {"HTTP_AUTHORIZATION": value} if value else {}
    body = json.dumps(_push("h", [_point(timezone.now())], facts=FACTS))
    answer = Client().post(URL, data=body, content_type="application/json", **headers)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"
    _nothing_stored()
    assert AgentToken.objects.get(pk=row.pk).last_used_at is None


def _bad(now: dt.datetime) -> list[tuple[Any, str]]:
    good = _point(now)
    return [
        ([1, 2], "non_field"),
        ({"points": [good]}, "hostname"),
        (_push("h", [good], addresses=["10.0.0.300"]), "addresses"),
        (_push("h", [{**good, "ts": "2026-01-01T00:00:00"}]), "points[0].ts"),
        (_push("h", [{**good, "ts": "yesterday"}]), "points[0].ts"),
        (
            _push("h", [{"ts": good["ts"], "metrics": [{"name": "CPU%", "value": 1}]}]),
            "points[0].metrics[0].name",
        ),
        (
            _push("h", [{"ts": good["ts"], "metrics": [{"name": "cpu", "value": "high"}]}]),
            "points[0].metrics[0].value",
        ),
        (
            _push("h", [{"ts": good["ts"], "metrics": [{"name": "cpu", "value": True}]}]),
            "points[0].metrics[0].value",
        ),
        (_push("h", [good], interval=0), "interval"),
        (_push("h", [good], facts={**FACTS, "cpu_count": "eight"}), "facts.cpu_count"),
        (_push("h", [good] * 1001), "points"),
    ]


def test_malformed_push_is_400_with_the_reason_and_stores_nothing(world: World) -> None:
    _row, token = tokens.create_agent_token(customer=world.customer_a, name="t")
    client = Client()
    for payload, field in _bad(timezone.now()):
        answer = _post(client, token, payload)
        assert answer.status_code == 400, (field, answer.content)
        error = answer.json()["error"]
        assert error["code"] == "validation_error"
        if field != "non_field":
            assert field in error["fields"], (field, error)
            assert error["message"].startswith(f"{field}: ")
        _nothing_stored()
    not_json = _post(client, token, None, raw=b"{not json")
    assert (not_json.status_code, not_json.json()["error"]["code"]) == (400, "parse_error")
    nan = _post(
        client,
        token,
        None,
        raw=b'{"hostname": "h", "points": [{"ts": "2026-01-01T00:00:00Z", '
        b'"metrics": [{"name": "x", "value": NaN}]}]}',
    )
    assert nan.status_code == 400
    too_big = _post(client, token, None, raw=b" " * (4 * 1024 * 1024 + 1))
    assert too_big.status_code == 413
    _nothing_stored()


def test_a_push_runs_the_threshold_rules_into_alerting(world: World) -> None:
    ci = _ci(world.customer_a, name="web02")
    ConfigurationItem.objects.filter(pk=ci.pk).update(hostname="web02")
    ThresholdRule.objects.create(
        customer=world.customer_a,
        name="CPU high",
        metric="cpu_percent",
        operator=">",
        threshold=90,
        for_seconds=0,
        severity="critical",
    )
    _row, token = tokens.create_agent_token(customer=world.customer_a, name="t")
    now = timezone.now().replace(microsecond=0)
    answer = _post(Client(), token, _push("web02", [_point(now, cpu=97.0)]))
    assert answer.status_code == 200
    group = AlertGroup.objects.get()
    assert (group.customer_id, group.ci_id, group.severity, group.state) == (
        world.customer_a.pk,
        ci.pk,
        "critical",
        "firing",
    )
    assert group.labels["alertname"] == "CPU high"


def test_a_silent_agent_raises_agent_silent_and_it_resolves_when_it_pushes_again(
    world: World,
) -> None:
    from opsassure.alerting.models import Alert
    from opsassure.monitoring import probing

    ci = _ci(world.customer_a, name="db-silent-01")
    row, _token = tokens.create_agent_token(customer=world.customer_a, name="fleet")
    start = timezone.now().replace(microsecond=0)
    agent = Agent.objects.create(
        customer=world.customer_a,
        token=row,
        hostname="db-silent-01",
        ci=ci,
        interval_seconds=30,
        last_seen_at=start,
    )
    fingerprint = f"mon-agent-{agent.pk}"
    limit = 3 * 30 + 30  # three intervals and the grace

    def sweep(seconds: float) -> int:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return probing.sweep_stale(now=start + dt.timedelta(seconds=seconds))

    assert sweep(limit) == 0
    assert sweep(limit + 1) == 1
    assert sweep(limit + 60) == 0  # fired once
    alert = Alert.objects.get(fingerprint=fingerprint)
    assert (alert.alertname, alert.status, alert.severity) == ("AgentSilent", "firing", "critical")
    assert alert.customer_id == world.customer_a.pk
    assert alert.labels["agent"] == "db-silent-01"
    assert alert.labels["opsassure_ci_id"] == str(ci.pk)
    assert AlertGroup.objects.filter(alerts__fingerprint=fingerprint).exists()

    Agent.objects.filter(pk=agent.pk).update(last_seen_at=start + dt.timedelta(seconds=200))
    assert sweep(210) == 1
    assert Alert.objects.get(fingerprint=fingerprint).status == "resolved"

    # A revoked token means the host was retired on purpose: no alert.
    tokens.revoke(row)
    assert sweep(2000) == 0
    assert Alert.objects.filter(fingerprint=fingerprint, status="firing").count() == 0


def test_a_deleted_agent_does_not_leave_its_silence_alert_firing(world: World) -> None:
    from opsassure.alerting.models import Alert
    from opsassure.monitoring import probing

    row, _token = tokens.create_agent_token(customer=world.customer_a, name="fleet")
    start = timezone.now().replace(microsecond=0)
    agent = Agent.objects.create(
        customer=world.customer_a, token=row, hostname="gone-01", last_seen_at=start
    )
    fingerprint = f"mon-agent-{agent.pk}"
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert probing.sweep_stale(now=start + dt.timedelta(hours=1)) == 1
    agent.delete()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert probing.sweep_stale(now=start + dt.timedelta(hours=2)) == 1
    assert list(Alert.objects.filter(fingerprint=fingerprint).values_list("status", flat=True)) == [
        "resolved"
    ]


def test_pushes_over_the_token_rate_get_429_with_retry_after_and_store_nothing(
    world: World, settings, client: Client
) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    cache.clear()
    settings.MONITORING_AGENT_PUSH_RATE = "2/min"
    _row, token = tokens.create_agent_token(customer=world.customer_a, name="fleet")
    _other_row, other = tokens.create_agent_token(customer=world.customer_a, name="other")
    now = timezone.now()
    for n in range(2):
        response = _post(client, token, _push("web01", [_point(now - dt.timedelta(seconds=n))]))
        assert response.status_code == 200, response.content
    stored = Sample.objects.count()
    response = _post(client, token, _push("web01", [_point(now - dt.timedelta(seconds=5))]))
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert Sample.objects.count() == stored
    # Another token has its own budget; a wrong token is still 401, not 429.
    assert _post(client, other, _push("web02", [_point(now)])).status_code == 200
    assert _post(client, "opsa_nope_nope", _push("web03", [_point(now)])).status_code == 401
