"""Grafana, Zabbix, Nightingale and the PagerDuty Events v2 compatible API."""

from __future__ import annotations

import json

import pytest
from django.test import Client, TestCase

from opsassure.alerting.models import Alert, AlertGroup, Integration
from tests.alerting.helpers import post
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _integration(world: World, kind: str) -> Integration:
    return Integration.objects.create(name=kind, kind=kind, customer=world.customer_a)


def test_grafana_webhook(client: Client, world: World) -> None:
    grafana = _integration(world, "grafana")
    payload = {
        "receiver": "opsassure",
        "status": "firing",
        "orgId": 1,
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "DiskFull", "instance": "db-01", "grafana_folder": "infra"},
                "annotations": {"summary": "Disk 95% full"},
                "startsAt": "2026-11-27T08:00:00.123456789Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://grafana/alerting/grafana/abc/view",
                "fingerprint": "c6eadffa33fcdf37",
                "silenceURL": "http://grafana/alerting/silence/new",
                "values": {"B": 95.2},
            }
        ],
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull"},
        "commonAnnotations": {},
        "externalURL": "http://grafana/",
        "version": "1",
        "groupKey": '{}/{}:{alertname="DiskFull"}',
        "truncatedAlerts": 0,
        "title": "[FIRING:1] DiskFull",
        "state": "alerting",
        "message": "…",
    }
    assert post(client, grafana, payload).status_code == 200
    alert = Alert.objects.get()
    assert (alert.fingerprint, alert.summary, alert.severity) == (
        "c6eadffa33fcdf37",
        "Disk 95% full",
        "warning",
    )
    assert alert.starts_at.isoformat() == "2026-11-27T08:00:00.123456+00:00"


def _zabbix(value: str) -> dict[str, str]:
    return {
        "event_id": "4711",
        "event_value": value,
        "event_name": "High CPU utilization (over 90% for 5m)",
        "trigger_id": "23001",
        "trigger_name": "High CPU utilization",
        "severity": "4",
        "host": "web-01",
        "host_name": "Web server 01",
        "host_ip": "10.0.0.11",
        "event_tags": '[{"tag": "scope", "value": "performance"}]',
        "event_time": "2026-11-27T08:00:00Z",
        "url": "http://zabbix/tr_events.php?triggerid=23001&eventid=4711",
    }


def test_zabbix_problem_and_recovery(client: Client, world: World) -> None:
    zabbix = _integration(world, "zabbix")
    assert post(client, zabbix, _zabbix("1")).status_code == 200
    alert = Alert.objects.get()
    assert alert.labels["alertname"] == "High CPU utilization"
    assert alert.labels["scope"] == "performance"
    assert alert.labels["ip"] == "10.0.0.11"
    assert alert.severity == "high"
    assert post(client, zabbix, _zabbix("0")).status_code == 200
    alert.refresh_from_db()
    assert alert.status == "resolved"
    assert Alert.objects.count() == 1
    assert AlertGroup.objects.get().state == "resolved"


def test_zabbix_missing_field(client: Client, world: World) -> None:
    zabbix = _integration(world, "zabbix")
    payload = _zabbix("1")
    del payload["host"]
    response = post(client, zabbix, payload)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"host": ["is required"]}
    assert Alert.objects.count() == 0


def _n9e(recovered: bool) -> dict[str, object]:
    return {
        "id": 77,
        "cate": "prometheus",
        "hash": "5d5ea8d8d8d1c3a1d1c1e1f1a1b1c1d1",
        "rule_id": 5,
        "rule_name": "cpu_high",
        "rule_note": "CPU above 90%",
        "severity": 1,
        "target_ident": "web-02",
        "trigger_time": 1795766400,
        "first_trigger_time": 1795766400,
        "last_eval_time": 1795770000,
        "trigger_value": "93.2",
        "tags": ["ident=web-02", "job=node"],
        "tags_map": {"ident": "web-02", "job": "node"},
        "annotations": {},
        "is_recovered": recovered,
    }


def test_n9e_callback(client: Client, world: World) -> None:
    n9e = _integration(world, "n9e")
    assert post(client, n9e, _n9e(False)).status_code == 200
    alert = Alert.objects.get()
    assert (alert.severity, alert.labels["host"], alert.annotations["value"]) == (
        "critical",
        "web-02",
        "93.2",
    )
    assert post(client, n9e, [_n9e(True)]).status_code == 200
    alert.refresh_from_db()
    assert alert.status == "resolved"


def _events(client: Client, body: dict[str, object]):  # type: ignore[no-untyped-def]
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            "/api/v1/alerting/events/v2/enqueue",
            data=json.dumps(body),
            content_type="application/json",
        )


def test_events_v2_trigger_ack_resolve(client: Client, world: World) -> None:
    events = _integration(world, "events_v2")
    trigger = {
        "routing_key": events.token,
        "event_action": "trigger",
        "dedup_key": "disk-db-01",
        "payload": {"summary": "Disk full on db-01", "source": "db-01", "severity": "error"},
    }
    response = _events(client, trigger)
    assert response.status_code == 202
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "disk-db-01",
    }
    group = AlertGroup.objects.get()
    assert group.severity == "high"
    ack = {"routing_key": events.token, "event_action": "acknowledge", "dedup_key": "disk-db-01"}
    assert post(client, events, ack).status_code == 202
    group.refresh_from_db()
    assert group.state == "acknowledged"
    resolve = {"routing_key": events.token, "event_action": "resolve", "dedup_key": "disk-db-01"}
    assert _events(client, resolve).status_code == 202
    group.refresh_from_db()
    assert group.state == "resolved"
    assert Alert.objects.get().status == "resolved"


def test_events_v2_generates_dedup_key_and_validates(client: Client, world: World) -> None:
    events = _integration(world, "events_v2")
    body = {
        "event_action": "trigger",
        "payload": {"summary": "x", "source": "y", "severity": "info"},
    }
    response = post(client, events, body)
    assert response.status_code == 202
    assert len(response.json()["dedup_key"]) == 32
    bad = post(client, events, {"event_action": "resolve"})
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"] == {"dedup_key": ["is required to acknowledge or resolve"]}
    wrong = _events(client, {"routing_key": "nope", "event_action": "trigger"})
    assert wrong.status_code == 404
    assert Alert.objects.count() == 1
