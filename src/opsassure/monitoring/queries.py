"""Read side of monitoring, used by the UI, the API and reports.

Availability and long charts read the rollups (``rollups.py``), never the raw tables: a year
of availability for a check is one indexed query over at most ~365 daily and ~48 hourly rows.
Times are UTC; availability resolves to the hour (hourly rows at the edges of a range, daily
rows for the whole UTC days in between).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from opsassure.monitoring.models import (
    CheckResult,
    CheckRollup,
    CheckState,
    MetricSeries,
    Monitor,
    Period,
    Sample,
    SampleRollup,
)
from opsassure.monitoring.rollups import DAY, HOUR, floor_day, floor_hour

WINDOWS: dict[str, dt.timedelta] = {
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
    "30d": dt.timedelta(days=30),
}
RAW_WINDOWS = frozenset({"24h"})  # shorter windows read raw rows, longer ones hourly rollups
CERT_WARN_DAYS = 14
WORST_COUNT = 5


def _ceil(at: dt.datetime, floor: Any, step: dt.timedelta) -> dt.datetime:
    low: dt.datetime = floor(at)
    return low if low == at else low + step


def _rollup_ranges(start: dt.datetime, end: dt.datetime) -> list[Q]:
    """Rollup rows covering [start, end): daily rows for whole UTC days, hourly at the edges.
    An hour counts when it starts inside the range. One index range per piece."""
    first_hour, last_hour = _ceil(start, floor_hour, HOUR), _ceil(end, floor_hour, HOUR)
    first_day, last_day = _ceil(start, floor_day, DAY), floor_day(end)
    if first_day >= last_day:
        return [Q(period=Period.HOUR, bucket__gte=first_hour, bucket__lt=last_hour)]
    return [
        Q(period=Period.DAY, bucket__gte=first_day, bucket__lt=last_day),
        Q(period=Period.HOUR, bucket__gte=first_hour, bucket__lt=first_day),
        Q(period=Period.HOUR, bucket__gte=last_day, bucket__lt=last_hour),
    ]


def availability_many(
    monitor_ids: Iterable[int], start: dt.datetime, end: dt.datetime
) -> dict[int, float | None]:
    """{check id: share of available results (0–1) inside its service hours} — None where
    nothing ran in its hours. At most three queries (days, and the hours at either edge),
    each an index range scan, whatever the length of the range."""
    ids = list(monitor_ids)
    totals: dict[int, list[int]] = {monitor_id: [0, 0] for monitor_id in ids}
    for piece in _rollup_ranges(start, end):
        rows = (
            CheckRollup.objects.filter(piece, monitor_id__in=ids)
            .order_by()
            .values("monitor_id")
            .annotate(total=Sum("hours_total"), up=Sum("hours_up"))
            .values_list("monitor_id", "total", "up")
        )
        for monitor_id, total, up in rows:
            totals[monitor_id][0] += total or 0
            totals[monitor_id][1] += up or 0
    return {key: (up / total if total else None) for key, (total, up) in totals.items()}


def availability(monitor: Monitor | int, start: dt.datetime, end: dt.datetime) -> float | None:
    """Availability of one check over [start, end) from its rollups (see the module doc)."""
    monitor_id = monitor.pk if isinstance(monitor, Monitor) else monitor
    return availability_many([monitor_id], start, end)[monitor_id]


def window_start(window: str, now: dt.datetime | None = None) -> dt.datetime:
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}; use one of {', '.join(WINDOWS)}")
    return (now or timezone.now()) - WINDOWS[window]


def response_series(
    monitor: Monitor | int, window: str, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Response time and availability points for a check's chart.

    24 h: every result (``t``, ``ms``, ``status``); 7 d / 30 d: hourly rows (``t``, ``avg_ms``,
    ``max_ms``, ``availability``, ``total``, ``down``)."""
    monitor_id = monitor.pk if isinstance(monitor, Monitor) else monitor
    since = window_start(window, now)
    if window in RAW_WINDOWS:
        rows = (
            CheckResult.objects.filter(monitor_id=monitor_id, started_at__gte=since)
            .order_by("started_at", "id")
            .values_list("started_at", "response_ms", "status")
        )
        points = [{"t": at.isoformat(), "ms": ms, "status": status} for at, ms, status in rows]
        return {"window": window, "resolution": "raw", "points": points}
    hourly = (
        CheckRollup.objects.filter(
            monitor_id=monitor_id, period=Period.HOUR, bucket__gte=floor_hour(since)
        )
        .order_by("bucket")
        .values_list(
            "bucket",
            "response_count",
            "response_sum_ms",
            "response_max_ms",
            "hours_total",
            "hours_up",
            "total",
            "down",
        )
    )
    points = [
        {
            "t": bucket.isoformat(),
            "avg_ms": round(total_ms / count, 3) if count else None,
            "max_ms": max_ms,
            "availability": up / in_hours if in_hours else None,
            "total": total,
            "down": down,
        }
        for bucket, count, total_ms, max_ms, in_hours, up, total, down in hourly
    ]
    return {"window": window, "resolution": "hour", "points": points}


def metric_series(
    series: MetricSeries | int, window: str, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """A metric's chart: raw samples (``t``, ``value``) for 24 h, hourly ``avg`` / ``min`` /
    ``max`` for 7 d and 30 d."""
    series_id = series.pk if isinstance(series, MetricSeries) else series
    since = window_start(window, now)
    if window in RAW_WINDOWS:
        rows = (
            Sample.objects.filter(series_id=series_id, ts__gte=since)
            .order_by("ts")
            .values_list("ts", "value")
        )
        points = [{"t": ts.isoformat(), "value": value} for ts, value in rows]
        return {"window": window, "resolution": "raw", "points": points}
    hourly = (
        SampleRollup.objects.filter(
            series_id=series_id, period=Period.HOUR, bucket__gte=floor_hour(since)
        )
        .order_by("bucket")
        .values_list("bucket", "count", "total", "minimum", "maximum")
    )
    points = [
        {
            "t": bucket.isoformat(),
            "avg": round(total / count, 6) if count else None,
            "min": low,
            "max": high,
        }
        for bucket, count, total, low, high in hourly
    ]
    return {"window": window, "resolution": "hour", "points": points}


def overview(customer_ids: Iterable[int], *, now: dt.datetime | None = None) -> dict[str, Any]:
    """State counts, the slowest checks and certificates expiring within 14 days (enabled
    checks of these customers). Three queries."""
    now = now or timezone.now()
    checks = Monitor.objects.filter(customer_id__in=list(customer_ids), enabled=True)
    counts = dict.fromkeys(CheckState.values, 0)
    for state, number in checks.order_by().values_list("state").annotate(n=Count("id")):
        counts[state] = number
    slowest = list(
        checks.filter(last_response_ms__isnull=False)
        .order_by("-last_response_ms", "pk")
        .values("id", "name", "customer_id", "last_response_ms")[:WORST_COUNT]
    )
    expiring = list(
        checks.filter(
            cert_expires_at__isnull=False,
            cert_expires_at__lt=now + dt.timedelta(days=CERT_WARN_DAYS),
        )
        .order_by("cert_expires_at", "pk")
        .values("id", "name", "customer_id", "cert_expires_at")
    )
    return {"counts": counts, "slowest": slowest, "expiring_certificates": expiring}
