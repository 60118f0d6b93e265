"""Shared helpers of the monitoring UI tests: checks, CIs and history rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from opsassure.cmdb.builtin import seed_builtins
from opsassure.cmdb.models import CIType, ConfigurationItem
from opsassure.cmdb.services import create_ci
from opsassure.core.models import Customer
from opsassure.monitoring import services, tokens
from opsassure.monitoring.models import CheckResult, CheckRollup, Monitor


def make_ci(
    customer: Customer, name: str, ip: str | None = None, hostname: str = ""
) -> ConfigurationItem:
    seed_builtins()
    ci = create_ci(
        actor=None,
        customer_id=customer.pk,
        ci_type=CIType.objects.get(code="server"),
        name=name,
        ip_addresses=[ip] if ip else [],
    )
    if hostname:
        ConfigurationItem.objects.filter(pk=ci.pk).update(hostname=hostname)
        ci.refresh_from_db()
    return ci


def make_check(customer: Customer, name: str = "web", **fields: Any) -> Monitor:
    arguments: dict[str, Any] = {
        "kind": "http",
        "target": f"https://{name}.example.cn/health",
        "interval_seconds": 60,
        "timeout_seconds": 5.0,
    }
    arguments.update(fields)
    return services.create_check(customer=customer, name=name, **arguments)


def hourly(monitor: Monitor, bucket: dt.datetime, *, total: int, up: int, **extra: Any) -> None:
    CheckRollup.objects.create(
        monitor=monitor,
        period="h",
        bucket=bucket,
        total=total,
        up=up,
        down=total - up,
        hours_total=total,
        hours_up=up,
        **extra,
    )


def result(monitor: Monitor, at: dt.datetime, status: int, ms: float | None) -> CheckResult:
    return CheckResult.objects.create(
        monitor=monitor,
        probe=tokens.ensure_local_probe(),
        started_at=at,
        status=status,
        response_ms=ms,
    )
