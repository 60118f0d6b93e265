"""Shared makers for the METRICS tests (agents, series, checks with results, rules)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable

from django.contrib.auth.models import Group, Permission

from opsassure.catalog import services as catalog_services
from opsassure.catalog.models import ServiceCalendar
from opsassure.core.models import Customer
from opsassure.monitoring import tokens
from opsassure.monitoring.models import CheckResult, Monitor, Probe
from opsassure.monitoring.roles_metrics import PERMISSIONS

_counter = itertools.count(1)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def grant_metrics_roles() -> None:
    """What the monitoring roles.py grants for this part (merged there by the UI part)."""
    for role, codes in PERMISSIONS.items():
        group = Group.objects.get(name=role)
        for code in codes:
            app_label, codename = code.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def probe() -> Probe:
    row, _token = tokens.create_probe(name=f"probe-{next(_counter)}")
    return row


def check(customer: Customer, calendar: ServiceCalendar | None = None, name: str = "") -> Monitor:
    return Monitor.objects.create(
        customer=customer,
        name=name or f"check-{next(_counter)}",
        kind="http",
        target="http://127.0.0.1:9/",
        calendar=calendar,
    )


def calendar(
    customer: Customer, start_minute: int, end_minute: int, zone: str = "Asia/Shanghai"
) -> ServiceCalendar:
    """Monday to Friday, one interval a day (e.g. 540–1020 = 09:00–17:00, a 5×8 calendar)."""
    code = f"cal-{next(_counter)}"
    return catalog_services.create_calendar(
        customer=customer,
        code=code,
        name=code,
        time_zone=zone,
        intervals=[(day, start_minute, end_minute) for day in range(5)],
    )


def results(
    monitor: Monitor,
    by: Probe,
    start: dt.datetime,
    end: dt.datetime,
    every: dt.timedelta,
    down: Iterable[tuple[dt.datetime, dt.datetime]] = (),
    ms: float = 100.0,
) -> int:
    """One result per ``every`` in [start, end); down (no response time) inside ``down``."""
    windows = list(down)
    rows = []
    at = start
    while at < end:
        is_down = any(low <= at < high for low, high in windows)
        rows.append(
            CheckResult(
                monitor=monitor,
                probe=by,
                started_at=at,
                status=2 if is_down else 0,
                response_ms=None if is_down else ms,
                message="timeout" if is_down else "",
            )
        )
        at += every
    CheckResult.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
