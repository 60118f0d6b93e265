"""Read side of the monitoring pages: chart series, availability, overview figures.

Until ``monitoring/queries.py`` (the metrics helper's) is merged, the UI reads rollups and raw
results here; the shapes are the ones the pages and the API need. Charts get their times as
"wall-clock milliseconds" in the user's zone (the instant shifted by the zone's offset at that
instant), and ECharts draws them with ``useUTC``: ticks then fall on round hours and days of the
user's zone, whatever zone the browser is in.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from opsassure.monitoring.models import (
    CheckResult,
    CheckRollup,
    CheckState,
    MetricSeries,
    Monitor,
    Period,
    Probe,
    ResultStatus,
    Sample,
    SampleRollup,
)

WINDOWS: dict[str, dt.timedelta] = {
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
    "30d": dt.timedelta(days=30),
}
DEFAULT_WINDOW = "24h"
# Above this span availability is read from daily rollups (a year is 365 rows).
DAILY_FROM = dt.timedelta(days=35)
BEATS = 24  # hourly beats on the list page: one bar per hour of the last day


def window_bounds(window: str, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    now = now or timezone.now()
    return now - WINDOWS.get(window, WINDOWS[DEFAULT_WINDOW]), now


class WallClock:
    """UTC instants → epoch milliseconds of the same wall-clock time in ``zone``."""

    def __init__(self, zone: dt.tzinfo | None = None) -> None:
        self.zone = zone or timezone.get_current_timezone()
        self._offsets: dict[int, int] = {}

    def ms(self, at: dt.datetime) -> int:
        epoch = int(at.timestamp())
        hour = epoch // 3600
        offset = self._offsets.get(hour)
        if offset is None:
            delta = at.astimezone(self.zone).utcoffset() or dt.timedelta()
            offset = self._offsets[hour] = int(delta.total_seconds())
        return (epoch + offset) * 1000 + at.microsecond // 1000


def _pct(up: int, total: int) -> float | None:
    return round(100.0 * up / total, 3) if total else None


def availability(monitor: Monitor, start: dt.datetime, end: dt.datetime) -> float | None:
    """Percentage of runs up or degraded inside the check's service hours, from the rollups
    (daily rows above 35 days, hourly below); None when nothing ran in the period."""
    period = Period.DAY if end - start > DAILY_FROM else Period.HOUR
    totals = CheckRollup.objects.filter(
        monitor=monitor, period=period, bucket__gte=start, bucket__lt=end
    ).aggregate(total=Sum("hours_total"), up=Sum("hours_up"))
    return _pct(totals["up"] or 0, totals["total"] or 0)


@dataclass
class ChartData:
    window: str
    start_ms: int
    end_ms: int
    response: list[list[Any]]  # [t, avg ms, max ms] (7d/30d) or [t, ms] (24h)
    down: list[list[int]]  # [t] of runs (24h) or hours (7d/30d) with a failure
    availability: list[list[Any]]  # [t, pct] per hour (24h) or per local day (7d/30d)
    summary: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "window": self.window,
            "start": self.start_ms,
            "end": self.end_ms,
            "response": self.response,
            "down": self.down,
            "availability": self.availability,
            "summary": self.summary,
        }


def _local_day(at: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    local = at.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def chart_data(monitor: Monitor, window: str, now: dt.datetime | None = None) -> ChartData:
    """Response time and availability over ``window`` (24h: raw runs; 7d/30d: hourly
    rollups), in the current zone's wall clock."""
    window = window if window in WINDOWS else DEFAULT_WINDOW
    start, end = window_bounds(window, now)
    clock = WallClock()
    zone = clock.zone
    response: list[list[Any]] = []
    down: list[list[int]] = []
    buckets: dict[dt.datetime, list[int]] = defaultdict(lambda: [0, 0])
    total = up = 0
    count = 0
    total_ms = 0.0
    worst: float | None = None
    if window == "24h":
        rows = (
            CheckResult.objects.filter(monitor=monitor, started_at__gte=start, started_at__lte=end)
            .order_by("started_at")
            .values_list("started_at", "status", "response_ms")
        )
        for started_at, status, ms in rows.iterator(chunk_size=5000):
            t = clock.ms(started_at)
            ok = status != ResultStatus.DOWN
            response.append([t, round(ms, 1) if ms is not None and ok else None])
            if not ok:
                down.append([t])
            hour = started_at.replace(minute=0, second=0, microsecond=0)
            bucket = buckets[hour]
            bucket[0] += 1
            bucket[1] += ok
            total += 1
            up += ok
            if ms is not None and ok:
                count += 1
                total_ms += ms
                worst = ms if worst is None else max(worst, ms)
        points = sorted(buckets.items())
    else:
        rollups = (
            CheckRollup.objects.filter(
                monitor=monitor, period=Period.HOUR, bucket__gte=start, bucket__lte=end
            )
            .order_by("bucket")
            .values_list(
                "bucket",
                "total",
                "down",
                "hours_total",
                "hours_up",
                "response_count",
                "response_sum_ms",
                "response_max_ms",
            )
        )
        for bucket_at, n, n_down, h_total, h_up, r_count, r_sum, r_max in rollups:
            t = clock.ms(bucket_at)
            avg = round(r_sum / r_count, 1) if r_count else None
            response.append([t, avg, round(r_max, 1) if r_max is not None else None])
            if n_down:
                down.append([t])
            day = _local_day(bucket_at, zone)
            bucket = buckets[day]
            bucket[0] += h_total
            bucket[1] += h_up
            total += h_total
            up += h_up
            count += r_count
            total_ms += r_sum
            if r_max is not None:
                worst = r_max if worst is None else max(worst, r_max)
            del n
        points = sorted(buckets.items())
    return ChartData(
        window=window,
        start_ms=clock.ms(start),
        end_ms=clock.ms(end),
        response=response,
        down=down,
        availability=[[clock.ms(at), _pct(ups, n)] for at, (n, ups) in points],
        summary={
            "availability": _pct(up, total),
            "runs": total,
            "failed": total - up,
            "avg_ms": round(total_ms / count, 1) if count else None,
            "max_ms": round(worst, 1) if worst is not None else None,
        },
    )


def beats(monitor_ids: Sequence[int], now: dt.datetime | None = None) -> dict[int, list[str]]:
    """Per check, one state per hour of the last 24 hours (oldest first), from the hourly
    rollups in one query: "up", "degraded", "down" or "none" (nothing ran)."""
    now = now or timezone.now()
    first = (now - dt.timedelta(hours=BEATS - 1)).replace(minute=0, second=0, microsecond=0)
    hours = [first + dt.timedelta(hours=i) for i in range(BEATS)]
    index = {hour: i for i, hour in enumerate(hours)}
    result = {pk: ["none"] * BEATS for pk in monitor_ids}
    rows = CheckRollup.objects.filter(
        monitor_id__in=monitor_ids, period=Period.HOUR, bucket__gte=first
    ).values_list("monitor_id", "bucket", "total", "degraded", "down")
    for monitor_id, bucket, n, degraded, n_down in rows:
        i = index.get(bucket)
        if i is None or not n:
            continue
        result[monitor_id][i] = "down" if n_down else "degraded" if degraded else "up"
    return result


def availability_24h(monitor_ids: Sequence[int], now: dt.datetime | None = None) -> dict[int, Any]:
    """Per check, availability over the last 24 hours from the hourly rollups (one query)."""
    now = now or timezone.now()
    start = (now - dt.timedelta(hours=BEATS - 1)).replace(minute=0, second=0, microsecond=0)
    rows = (
        CheckRollup.objects.filter(
            monitor_id__in=monitor_ids, period=Period.HOUR, bucket__gte=start
        )
        .values("monitor_id")
        .annotate(total=Sum("hours_total"), up=Sum("hours_up"))
    )
    return {row["monitor_id"]: _pct(row["up"] or 0, row["total"] or 0) for row in rows}


# Overview ------------------------------------------------------------------------------------

STATE_ORDER = [CheckState.DOWN, CheckState.DEGRADED, CheckState.UNKNOWN, CheckState.UP]


def state_counts(checks: QuerySet[Monitor]) -> dict[str, int]:
    counts = {str(state): 0 for state in STATE_ORDER}
    counts["paused"] = 0
    for row in checks.values("state", "enabled").annotate(n=Count("id")):
        key = row["state"] if row["enabled"] else "paused"
        counts[key] = counts.get(key, 0) + row["n"]
    return counts


def per_customer(checks: QuerySet[Monitor]) -> list[dict[str, Any]]:
    """Up / degraded / down / unknown / paused counts per customer, worst first."""
    rows = (
        checks.values("customer_id", "customer__name", "customer__code")
        .annotate(
            total=Count("id"),
            down=Count("id", filter=Q(enabled=True, state=CheckState.DOWN)),
            degraded=Count("id", filter=Q(enabled=True, state=CheckState.DEGRADED)),
            unknown=Count("id", filter=Q(enabled=True, state=CheckState.UNKNOWN)),
            up=Count("id", filter=Q(enabled=True, state=CheckState.UP)),
            paused=Count("id", filter=Q(enabled=False)),
            cert_soonest=Min("cert_expires_at"),
            slowest=Max("last_response_ms", filter=Q(enabled=True)),
        )
        .order_by("customer__name")
    )
    result = [dict(row) for row in rows]
    result.sort(key=lambda r: (-r["down"], -r["degraded"], r["customer__name"]))
    return result


def probe_health(probe: Probe, now: dt.datetime | None = None) -> dict[str, Any]:
    """Heartbeat age and what the probe last reported, with a verdict for the page."""
    now = now or timezone.now()
    beat = probe.heartbeat if isinstance(probe.heartbeat, dict) else {}
    age = (now - probe.last_heartbeat_at).total_seconds() if probe.last_heartbeat_at else None
    if probe.revoked_at is not None or not probe.enabled:
        verdict = "revoked" if probe.revoked_at is not None else "disabled"
    elif age is None:
        verdict = "never"
    elif age > probe.heartbeat_timeout_seconds:
        verdict = "silent"
    else:
        verdict = "ok"
    return {
        "probe": probe,
        "age": age,
        "verdict": verdict,
        "version": str(beat.get("version", "")),
        "checks": beat.get("checks"),
        "lag_p50": beat.get("lag_p50"),
        "lag_p99": beat.get("lag_p99"),
        "buffered": beat.get("buffered"),
    }


# Host metrics on the CI page -----------------------------------------------------------------

CI_METRICS = (
    "cpu_percent",
    "mem_used_percent",
    "disk_used_percent",
    "load1",
    "net_rx_bytes_per_s",
    "net_tx_bytes_per_s",
)


def metric_series(series: Iterable[MetricSeries], window: str) -> dict[int, list[list[Any]]]:
    """Points per series over ``window``: raw samples for 24 h, hourly averages beyond."""
    ids = [s.pk for s in series]
    start, end = window_bounds(window)
    clock = WallClock()
    points: dict[int, list[list[Any]]] = {pk: [] for pk in ids}
    if not ids:
        return points
    if window == "24h":
        samples = (
            Sample.objects.filter(series_id__in=ids, ts__gte=start, ts__lte=end)
            .order_by("series_id", "ts")
            .values_list("series_id", "ts", "value")
        )
        for series_id, ts, value in samples.iterator(chunk_size=5000):
            points[series_id].append([clock.ms(ts), round(value, 3)])
    else:
        rollups = (
            SampleRollup.objects.filter(
                series_id__in=ids, period=Period.HOUR, bucket__gte=start, bucket__lte=end
            )
            .order_by("series_id", "bucket")
            .values_list("series_id", "bucket", "count", "total")
        )
        for series_id, bucket, n, total in rollups:
            if n:
                points[series_id].append([clock.ms(bucket), round(total / n, 3)])
    return points
