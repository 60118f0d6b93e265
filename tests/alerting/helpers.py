"""Payload builders and small helpers for the alerting tests."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.test import Client, TestCase

from opsassure.alerting.models import Integration


def am_alert(
    name: str = "HighCPU",
    instance: str = "web-01:9100",
    status: str = "firing",
    fingerprint: str | None = None,
    severity: str = "critical",
    starts: str = "2026-11-27T08:00:00Z",
    ends: str = "0001-01-01T00:00:00Z",
    **labels: str,
) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "status": status,
        "labels": {"alertname": name, "instance": instance, "severity": severity, **labels},
        "annotations": {"summary": f"{name} on {instance}"},
        "startsAt": starts,
        "endsAt": ends,
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
    }
    if fingerprint is not None:
        alert["fingerprint"] = fingerprint
    return alert


def am_payload(
    *alerts: dict[str, Any], group_key: str = '{}:{alertname="HighCPU"}'
) -> dict[str, Any]:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "opsassure",
        "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]} if alerts else {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def post(
    client: Client,
    integration: Integration,
    payload: Any,
    *,
    bearer: str = "",
    raw: bytes | None = None,
    content_type: str = "application/json",
) -> Any:
    extra = {"HTTP_AUTHORIZATION": f"Bearer {bearer}"} if bearer else {}
    body = raw if raw is not None else json.dumps(payload).encode()
    # The worker runs after the commit (eager in tests): run the on-commit callbacks here.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            f"/api/v1/alerting/ingest/{integration.token}/",
            data=body,
            content_type=content_type,
            **extra,
        )


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)
