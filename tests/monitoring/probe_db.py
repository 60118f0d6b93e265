"""Rows for the probe protocol tests (checks, probes, results)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from opsassure.alerting import ingest
from opsassure.alerting.models import Alert
from opsassure.core.models import Customer
from opsassure.monitoring import tokens
from opsassure.monitoring.models import Monitor, Probe
from opsassure.monitoring.probing import ResultIn

T0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def make_check(customer: Customer, name: str = "web", **fields: Any) -> Monitor:
    probes = fields.pop("probes", [])
    fields.setdefault("kind", "http")
    fields.setdefault("target", "http://127.0.0.1:9/")
    monitor = Monitor.objects.create(customer=customer, name=name, **fields)
    if probes:
        monitor.probes.set(probes)
    return monitor


def make_probe(name: str = "zone-a", customer: Customer | None = None) -> tuple[Probe, str]:
    return tokens.create_probe(name=name, zone="Shanghai IDC", customer=customer)


def result(check: Monitor, at: dt.datetime, status: int = 0, **fields: Any) -> ResultIn:
    fields.setdefault("response_ms", 12.5 if status != 2 else None)
    return ResultIn(check_id=check.pk, started_at=at, status=status, **fields)


def minutes(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def batch_id() -> uuid.UUID:
    return uuid.uuid4()


def alerts_for(fingerprint: str) -> list[tuple[str, str, str]]:
    """(alertname, status, severity) of every alert row with this fingerprint, by cycle
    (staged alerts written first, as the alerting worker would)."""
    ingest.expand_waiting()
    return list(
        Alert.objects.filter(fingerprint=fingerprint)
        .order_by("cycle")
        .values_list("alertname", "status", "severity")
    )
