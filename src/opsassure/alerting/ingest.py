"""Accepting a batch: commit the raw batch row and the alert rows, then answer.

This is the hot path (thousands of alerts per second), so it is a handful of SQL statements
per request whatever the batch size:

1. one ``INSERT`` of the ``IngestBatch`` row;
2. one multi-row ``INSERT … ON CONFLICT (integration_id, fingerprint) WHERE status = 'firing'
   DO UPDATE`` for the firing alerts: a repeat bumps ``last_seen`` and ``repeat_count`` on the
   firing row (the partial unique index), a new or re-fired alert inserts a row whose ``cycle``
   is one more than the fingerprint's last;
3. for resolved alerts: one ``SELECT`` of the fingerprints already known, one ``UPDATE`` per
   resolved alert of its firing row, and one ``INSERT`` of rows never seen firing.

Django's ``bulk_create(update_conflicts=True)`` cannot express the partial-index conflict
target or ``repeat_count + 1``, hence the SQL (standard upsert syntax, same text on SQLite ≥
3.35 and PostgreSQL). Everything else — enrichment, grouping, routing — is the worker's job
(``processing``), started after commit and re-driven by the sweep.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from opsassure.alerting.models import Alert, IngestBatch, Integration, RateWindow
from opsassure.alerting.payloads import AlertIn, ParsedBatch
from opsassure.core.jobs import enqueue_on_commit

ALERT_TABLE = Alert._meta.db_table
RATE_TABLE = RateWindow._meta.db_table
_ROWS_PER_STATEMENT = 200  # keeps SQLite under its bound-parameter limit


def _json_placeholder() -> str:
    return "%s::jsonb" if connection.vendor == "postgresql" else "%s"


def _dt(value: dt.datetime | None) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _dumps(value: dict[str, str]) -> str:
    return json.dumps(value, ensure_ascii=False)


def _chunks(items: Sequence[AlertIn]) -> Iterable[Sequence[AlertIn]]:
    for start in range(0, len(items), _ROWS_PER_STATEMENT):
        yield items[start : start + _ROWS_PER_STATEMENT]


def rate_limited(integration: Integration, now: dt.datetime) -> int:
    """0 if the request may pass, else the seconds until the current window ends.

    A fixed one-minute window counted in ``RateWindow`` (one upsert in its own short
    transaction, so the row lock is not held while the batch is written). Refused requests
    count too: a sender hammering us stays refused until the window turns.
    """
    limit = integration.rate_limit_per_minute
    if not limit:
        return 0
    window = now.replace(second=0, microsecond=0)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {RATE_TABLE} (integration_id, window_start, count) "  # noqa: S608
            "VALUES (%s, %s, 1) ON CONFLICT (integration_id, window_start) "
            f"DO UPDATE SET count = {RATE_TABLE}.count + 1 RETURNING count",
            [integration.pk, _dt(window)],
        )
        row = cursor.fetchone()
    count = int(row[0]) if row else 0
    if count <= limit:
        return 0
    return max(1, 60 - int((now - window).total_seconds()))


def _dedupe(alerts: Iterable[AlertIn]) -> tuple[list[AlertIn], list[AlertIn]]:
    """Firing and resolved alerts, the last occurrence of each fingerprint winning."""
    last: dict[str, AlertIn] = {}
    for alert in alerts:
        last.pop(alert.fingerprint, None)
        last[alert.fingerprint] = alert
    firing = [a for a in last.values() if a.status == "firing"]
    resolved = [a for a in last.values() if a.status == "resolved"]
    return firing, resolved


_COLUMNS = (
    "integration_id, customer_id, fingerprint, cycle, status, processed_status, pending, "
    "batch_id, alertname, summary, severity, labels, annotations, starts_at, ends_at, "
    "first_seen, last_seen, repeat_count, generator_url, suppressed, suppressed_by"
)


def _upsert_firing(
    integration: Integration, batch_id: int, alerts: Sequence[AlertIn], now: Any
) -> None:
    j = _json_placeholder()
    row = (
        f"(%s, %s, %s, (SELECT COALESCE(MAX(c.cycle), 0) + 1 FROM {ALERT_TABLE} c "  # noqa: S608
        "WHERE c.integration_id = %s AND c.fingerprint = %s), 'firing', '', TRUE, %s, %s, %s, "
        f"%s, {j}, {j}, %s, NULL, %s, %s, 0, %s, FALSE, {j})"
    )
    for chunk in _chunks(alerts):
        params: list[Any] = []
        for alert in chunk:
            params += [
                integration.pk,
                integration.customer_id,
                alert.fingerprint,
                integration.pk,
                alert.fingerprint,
                batch_id,
                alert.alertname,
                alert.summary,
                alert.severity,
                _dumps(alert.labels),
                _dumps(alert.annotations),
                _dt(alert.starts_at),
                now,
                now,
                alert.generator_url,
                "{}",
            ]
        sql = (
            f"INSERT INTO {ALERT_TABLE} ({_COLUMNS}) VALUES "  # noqa: S608
            + ", ".join([row] * len(chunk))
            + " ON CONFLICT (integration_id, fingerprint) WHERE status = 'firing' DO UPDATE SET "
            f"last_seen = excluded.last_seen, repeat_count = {ALERT_TABLE}.repeat_count + 1, "
            "annotations = excluded.annotations, summary = excluded.summary, "
            "severity = excluded.severity, generator_url = excluded.generator_url, "
            "batch_id = excluded.batch_id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _apply_resolved(
    integration: Integration, batch_id: int, alerts: Sequence[AlertIn], now: Any
) -> None:
    known: set[str] = set()
    fingerprints = [a.fingerprint for a in alerts]
    for start in range(0, len(fingerprints), 500):
        known.update(
            Alert.objects.filter(
                integration=integration, fingerprint__in=fingerprints[start : start + 500]
            ).values_list("fingerprint", flat=True)
        )
    updates = [a for a in alerts if a.fingerprint in known]
    fresh = [a for a in alerts if a.fingerprint not in known]
    if updates:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {ALERT_TABLE} SET status = 'resolved', ends_at = %s, "  # noqa: S608
                "last_seen = %s, batch_id = %s, "
                "pending = CASE WHEN processed_status = 'resolved' THEN FALSE ELSE TRUE END "
                "WHERE integration_id = %s AND fingerprint = %s AND status = 'firing'",
                [[_dt(a.ends_at), now, batch_id, integration.pk, a.fingerprint] for a in updates],
            )
    if fresh:
        j = _json_placeholder()
        row = (
            f"(%s, %s, %s, 1, 'resolved', '', TRUE, %s, %s, %s, %s, {j}, {j}, %s, %s, %s, %s, 0, "
            f"%s, FALSE, {j})"
        )
        for chunk in _chunks(fresh):
            params: list[Any] = []
            for alert in chunk:
                params += [
                    integration.pk,
                    integration.customer_id,
                    alert.fingerprint,
                    batch_id,
                    alert.alertname,
                    alert.summary,
                    alert.severity,
                    _dumps(alert.labels),
                    _dumps(alert.annotations),
                    _dt(alert.starts_at),
                    _dt(alert.ends_at),
                    now,
                    now,
                    alert.generator_url,
                    "{}",
                ]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {ALERT_TABLE} ({_COLUMNS}) VALUES "  # noqa: S608
                    + ", ".join([row] * len(chunk)),
                    params,
                )


def accept(
    integration: Integration, parsed: ParsedBatch, *, now: dt.datetime | None = None
) -> IngestBatch:
    """Commit the batch and its alerts; the worker is told after the commit."""
    from opsassure.alerting.tasks import alert_process_batch

    now = now or timezone.now()
    firing, resolved = _dedupe(parsed.alerts)
    with transaction.atomic():
        batch = IngestBatch.objects.create(
            integration=integration,
            received_at=now,
            group_key=parsed.group_key,
            status=parsed.status,
            alert_count=len(parsed.alerts),
            meta=parsed.meta,
            actions=parsed.actions,
        )
        stamp = _dt(now)
        if firing:
            _upsert_firing(integration, batch.pk, firing, stamp)
        if resolved:
            _apply_resolved(integration, batch.pk, resolved, stamp)
        enqueue_on_commit(alert_process_batch, batch.pk)
    return batch
