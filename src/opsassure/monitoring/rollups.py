"""Hourly and daily rollups of check results and samples, and retention.

Rollups are recomputed from the raw rows, never incremented: each pass is one
``INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE`` per source (standard upsert, the same
text on SQLite ≥ 3.35 and PostgreSQL but for the hour/day truncation), so running a pass
twice, or over an hour that is still filling, just writes the same numbers again.

- Hourly rows (``period = "h"``, UTC hours) come from the raw results / samples of the hours
  in the window; ``rollup_recent`` does the last three hours every few minutes. Older rows
  that arrive late (a probe or agent that spooled through an outage) leave a
  ``RollupBacklog`` row in their own transaction (``note_late``), and the same pass recomputes
  those spans. ``rollup_range`` recomputes any span (backfill).
- Daily rows (``period = "d"``, UTC days) are the sums of the day's hourly rows.
- Availability inside service hours: for a check with a service calendar, ``hours_total`` /
  ``hours_up`` count only the results whose start lies in the calendar's working time (the
  spans come from the catalog's business-time engine); without a calendar every result counts.
  Degraded counts as available.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from opsassure.catalog.business_time import BusinessCalendar
from opsassure.catalog.models import ServiceCalendar
from opsassure.catalog.queries import business_calendar
from opsassure.monitoring.models import (
    CheckResult,
    CheckRollup,
    MetricSeries,
    Monitor,
    Period,
    ResultBatch,
    RollupBacklog,
    Sample,
    SampleRollup,
)

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
RECENT_HOURS = 3
ID_CHUNK = 500
DELETE_CHUNK = 20_000

Span = tuple[dt.datetime, dt.datetime]


def floor_hour(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def floor_day(at: dt.datetime) -> dt.datetime:
    return floor_hour(at).replace(hour=0)


def _ceil(at: dt.datetime, floor: Any, step: dt.timedelta) -> dt.datetime:
    low: dt.datetime = floor(at)
    return low if low == at else low + step


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _param(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _trunc(column: str, unit: str) -> str:
    """SQL truncating a timestamp column to the UTC hour or day (stored as the same type)."""
    if connection.vendor == "postgresql":
        return f"date_trunc('{unit}', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    pattern = "%%Y-%%m-%%d %%H:00:00" if unit == "hour" else "%%Y-%%m-%%d 00:00:00"
    return f"strftime('{pattern}', {column})"


def _chunks(items: Sequence[int], size: int = ID_CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def open_spans(engine: BusinessCalendar, start: dt.datetime, end: dt.datetime) -> list[Span]:
    """The calendar's working time inside [start, end) as UTC spans, to the minute.

    Whole hours are classified with one ``elapsed`` call each; only an hour that is partly
    working time (e.g. 08:30 starts) is walked minute by minute."""
    spans: list[Span] = []

    def add(low: dt.datetime, high: dt.datetime) -> None:
        if spans and spans[-1][1] == low:
            spans[-1] = (spans[-1][0], high)
        else:
            spans.append((low, high))

    hour = floor_hour(start)
    while hour < end:
        seconds = engine.elapsed(hour, hour + HOUR)
        if seconds >= 3600:
            add(hour, hour + HOUR)
        elif seconds > 0:
            for minute in range(60):
                at = hour + dt.timedelta(minutes=minute)
                if engine.is_open(at):
                    add(at, at + dt.timedelta(minutes=1))
        hour += HOUR
    return [(max(low, start), min(high, end)) for low, high in spans if high > start and low < end]


# --- Check results ------------------------------------------------------------------------

_CHECK_COLUMNS = (
    "monitor_id",
    "period",
    "bucket",
    "total",
    "up",
    "degraded",
    "down",
    "hours_total",
    "hours_up",
    "response_count",
    "response_sum_ms",
    "response_max_ms",
)


def _upsert(table: str, columns: Sequence[str], key: Sequence[str]) -> tuple[str, str]:
    names = ", ".join(_q(c) for c in columns)
    updates = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in columns if c not in key)
    conflict = f"ON CONFLICT ({', '.join(_q(c) for c in key)}) DO UPDATE SET {updates}"
    return f"INSERT INTO {_q(table)} ({names})", conflict


def _check_hourly_group(
    start: dt.datetime, end: dt.datetime, calendar_id: int | None, spans: list[Span]
) -> int:
    result, monitor = CheckResult._meta.db_table, Monitor._meta.db_table
    insert, conflict = _upsert(
        CheckRollup._meta.db_table, _CHECK_COLUMNS, ("monitor_id", "period", "bucket")
    )
    if calendar_id is None:
        in_hours, hour_params = "1 = 1", []
    elif spans:
        in_hours = " OR ".join("(r.started_at >= %s AND r.started_at < %s)" for _ in spans)
        hour_params = [_param(at) for span in spans for at in span]
    else:
        in_hours, hour_params = "1 = 0", []
    which = "calendar_id IS NULL" if calendar_id is None else "calendar_id = %s"
    sql = f"""{insert}
        SELECT r.monitor_id, %s, {_trunc("r.started_at", "hour")}, COUNT(*),
            SUM(CASE WHEN r.status = 0 THEN 1 ELSE 0 END),
            SUM(CASE WHEN r.status = 1 THEN 1 ELSE 0 END),
            SUM(CASE WHEN r.status = 2 THEN 1 ELSE 0 END),
            SUM(CASE WHEN {in_hours} THEN 1 ELSE 0 END),
            SUM(CASE WHEN ({in_hours}) AND r.status < 2 THEN 1 ELSE 0 END),
            COUNT(r.response_ms), COALESCE(SUM(r.response_ms), 0), MAX(r.response_ms)
        FROM {_q(result)} r
        WHERE r.started_at >= %s AND r.started_at < %s
            AND r.monitor_id IN (SELECT id FROM {_q(monitor)} WHERE {which})
        GROUP BY r.monitor_id, 3
        {conflict}"""  # noqa: S608 - names and placeholders only
    params: list[Any] = [Period.HOUR.value, *hour_params, *hour_params]
    params += [_param(start), _param(end)]
    if calendar_id is not None:
        params.append(calendar_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _check_hourly(start: dt.datetime, end: dt.datetime) -> int:
    written = _check_hourly_group(start, end, None, [])
    calendar_ids = sorted(
        Monitor.objects.filter(calendar__isnull=False)
        .order_by()
        .values_list("calendar_id", flat=True)
        .distinct()
    )
    for calendar in ServiceCalendar.objects.filter(pk__in=calendar_ids).order_by("pk"):
        spans = open_spans(business_calendar(calendar), start, end)
        written += _check_hourly_group(start, end, calendar.pk, spans)
    return written


def _check_daily(start: dt.datetime, end: dt.datetime) -> int:
    table = CheckRollup._meta.db_table
    insert, conflict = _upsert(table, _CHECK_COLUMNS, ("monitor_id", "period", "bucket"))
    written = 0
    ids = list(Monitor.objects.order_by("pk").values_list("pk", flat=True))
    for chunk in _chunks(ids):
        marks = ", ".join(["%s"] * len(chunk))
        sql = f"""{insert}
            SELECT monitor_id, %s, {_trunc("bucket", "day")}, SUM(total), SUM(up),
                SUM(degraded), SUM(down), SUM(hours_total), SUM(hours_up),
                SUM(response_count), SUM(response_sum_ms), MAX(response_max_ms)
            FROM {_q(table)}
            WHERE monitor_id IN ({marks}) AND period = %s AND bucket >= %s AND bucket < %s
            GROUP BY monitor_id, 3
            {conflict}"""  # noqa: S608 - names and placeholders only
        params = [Period.DAY.value, *chunk, Period.HOUR.value, _param(start), _param(end)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            written += max(cursor.rowcount, 0)
    return written


# --- Samples ------------------------------------------------------------------------------

_SAMPLE_COLUMNS = ("series_id", "period", "bucket", "count", "total", "minimum", "maximum")


def _sample_hourly(start: dt.datetime, end: dt.datetime) -> int:
    insert, conflict = _upsert(
        SampleRollup._meta.db_table, _SAMPLE_COLUMNS, ("series_id", "period", "bucket")
    )
    sql = f"""{insert}
        SELECT series_id, %s, {_trunc("ts", "hour")}, COUNT(*), SUM(value), MIN(value),
            MAX(value)
        FROM {_q(Sample._meta.db_table)}
        WHERE ts >= %s AND ts < %s
        GROUP BY series_id, 3
        {conflict}"""  # noqa: S608 - names and placeholders only
    with connection.cursor() as cursor:
        cursor.execute(sql, [Period.HOUR.value, _param(start), _param(end)])
        return max(cursor.rowcount, 0)


def _sample_daily(start: dt.datetime, end: dt.datetime) -> int:
    table = SampleRollup._meta.db_table
    insert, conflict = _upsert(table, _SAMPLE_COLUMNS, ("series_id", "period", "bucket"))
    written = 0
    ids = list(
        MetricSeries.objects.filter(last_at__gte=start).order_by("pk").values_list("pk", flat=True)
    )
    for chunk in _chunks(ids):
        marks = ", ".join(["%s"] * len(chunk))
        sql = f"""{insert}
            SELECT series_id, %s, {_trunc("bucket", "day")}, SUM({_q("count")}),
                SUM({_q("total")}), MIN(minimum), MAX(maximum)
            FROM {_q(table)}
            WHERE series_id IN ({marks}) AND period = %s AND bucket >= %s AND bucket < %s
            GROUP BY series_id, 3
            {conflict}"""  # noqa: S608 - names and placeholders only
        params = [Period.DAY.value, *chunk, Period.HOUR.value, _param(start), _param(end)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            written += max(cursor.rowcount, 0)
    return written


# --- Entry points -------------------------------------------------------------------------


def rollup_range(start: dt.datetime, end: dt.datetime) -> int:
    """Recompute the hourly rows of every hour touching [start, end) and the daily rows of
    the days they fall in. Returns the number of rows written (inserted or updated)."""
    low, high = floor_hour(start), _ceil(end, floor_hour, HOUR)
    written = 0
    day = low
    while day < high:  # a day at a time: the service-hour spans stay a handful per statement
        upto = min(day + DAY, high)
        with transaction.atomic():
            written += _check_hourly(day, upto) + _sample_hourly(day, upto)
        day = upto
    with transaction.atomic():
        first, last = floor_day(low), _ceil(high, floor_day, DAY)
        written += _check_daily(first, last) + _sample_daily(first, last)
    return written


def recent_start(now: dt.datetime) -> dt.datetime:
    """Where the periodic pass starts: rows stamped before this are not looked at again."""
    return floor_hour(now) + HOUR - RECENT_HOURS * HOUR


def rollup_recent(*, now: dt.datetime | None = None) -> int:
    """The periodic pass: the current hour and the two before it, then the backlog of late
    rows (``note_late``)."""
    now = now or timezone.now()
    start = recent_start(now)
    return rollup_range(start, start + RECENT_HOURS * HOUR) + rollup_backlog()


def note_late(earliest: dt.datetime, latest: dt.datetime, *, now: dt.datetime) -> bool:
    """Raw rows stamped ``earliest``..``latest`` were just stored (call inside that
    transaction): if some are older than the periodic pass looks, queue their span."""
    window = recent_start(now)
    if earliest >= window:
        return False
    RollupBacklog.objects.create(start=earliest, end=min(latest + dt.timedelta(seconds=1), window))
    return True


BACKLOG_ROWS_PER_PASS = 500


def rollup_backlog() -> int:
    """Recompute the spans of late rows (merged where they overlap), then forget them. A pass
    that dies half-way leaves the rows, and the next redoes them: the upserts are idempotent."""
    rows = list(RollupBacklog.objects.order_by("start")[:BACKLOG_ROWS_PER_PASS])
    if not rows:
        return 0
    spans: list[list[dt.datetime]] = []
    for row in rows:
        low, high = floor_hour(row.start), _ceil(row.end, floor_hour, HOUR)
        if spans and low <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], high)
        else:
            spans.append([low, high])
    written = sum(rollup_range(low, high) for low, high in spans)
    RollupBacklog.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return written


def _delete_older(model: Any, column: str, cutoff: dt.datetime) -> int:
    """Delete a raw table's rows older than ``cutoff``, a chunk per statement (short
    transactions, bounded locks); the ids never leave the database."""
    table, pk = _q(model._meta.db_table), _q(model._meta.pk.column)
    sql = (
        f"DELETE FROM {table} WHERE {pk} IN (SELECT {pk} FROM {table} "  # noqa: S608 - names
        f"WHERE {_q(column)} < %s ORDER BY {_q(column)} LIMIT %s)"
    )
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [_param(cutoff), DELETE_CHUNK])
            count = max(cursor.rowcount, 0)
        deleted += count
        if count < DELETE_CHUNK:
            return deleted


def purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete raw results, samples and result batches older than
    ``MONITORING_RAW_RETENTION_DAYS`` and rollups older than
    ``MONITORING_ROLLUP_RETENTION_DAYS``, in chunks. Returns the rows deleted."""
    now = now or timezone.now()
    raw = now - dt.timedelta(days=settings.MONITORING_RAW_RETENTION_DAYS)
    kept = now - dt.timedelta(days=settings.MONITORING_ROLLUP_RETENTION_DAYS)
    deleted = _delete_older(CheckResult, "started_at", raw)
    deleted += _delete_older(Sample, "ts", raw)
    deleted += _delete_older(ResultBatch, "received_at", raw)
    # Rollups by owner (the unique index leads with it), so old rows are found by index.
    monitor_ids = list(Monitor.objects.order_by("pk").values_list("pk", flat=True))
    for chunk in _chunks(monitor_ids):
        count, _ = CheckRollup.objects.filter(monitor_id__in=chunk, bucket__lt=kept).delete()
        deleted += count
    series_ids = list(MetricSeries.objects.order_by("pk").values_list("pk", flat=True))
    for chunk in _chunks(series_ids):
        count, _ = SampleRollup.objects.filter(series_id__in=chunk, bucket__lt=kept).delete()
        deleted += count
    return deleted
