"""Accepting a batch: commit the raw batch row and the alert rows, then answer.

This is the hot path (thousands of alerts per second), so it is a handful of SQL statements
per request whatever the batch size, and the alerts travel as one JSON array parameter that
the database turns back into rows (PostgreSQL ``jsonb_to_recordset``, SQLite ``json_each``):

1. one ``INSERT`` of the ``IngestBatch`` row;
2. one ``INSERT … SELECT … ON CONFLICT (integration_id, fingerprint) WHERE status = 'firing'
   DO UPDATE`` for the firing alerts: a repeat bumps ``last_seen`` and ``repeat_count`` on the
   firing row (the partial unique index), a new or re-fired alert inserts a row whose ``cycle``
   is one more than the fingerprint's last;
3. for resolved alerts: one ``SELECT`` of the fingerprints already known, one ``UPDATE … FROM``
   of their firing rows, and one ``INSERT`` of rows never seen firing.

On PostgreSQL the four statements are one, with data-modifying CTEs (``_PG_ACCEPT``), run in
autocommit; SQLite runs them in one transaction.

Django's ``bulk_create(update_conflicts=True)`` cannot express the partial-index conflict
target or ``repeat_count + 1``, hence the SQL (standard upsert syntax; SQLite ≥ 3.35 and
PostgreSQL). Everything else — enrichment, grouping, routing — is the worker's job
(``processing``), started after commit and re-driven by the sweep.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from django.db import connection, transaction
from django.utils import timezone

from opsassure.alerting.models import Alert, IngestBatch, Integration, RateWindow
from opsassure.alerting.payloads import AlertIn, ParsedBatch
from opsassure.core.jobs import enqueue_on_commit

ALERT_TABLE = Alert._meta.db_table
RATE_TABLE = RateWindow._meta.db_table


def _json_placeholder() -> str:
    return "%s::jsonb" if connection.vendor == "postgresql" else "%s"


def _dt(value: dt.datetime | None) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def rate_limited(integration: Integration, now: dt.datetime) -> int:
    """0 if the request may pass, else the seconds until the current window ends.

    A fixed one-minute window counted in ``RateWindow`` (one upsert in its own short
    transaction, so the row lock is not held while the batch is written; on PostgreSQL that
    commit does not wait for the WAL flush). Refused requests
    count too: a sender hammering us stays refused until the window turns.
    """
    limit = integration.rate_limit_per_minute
    if not limit:
        return 0
    window = now.replace(second=0, microsecond=0)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A counter, not a record: its commit need not wait for the disk (a crash can at
            # worst forget some counts of the current minute). The batch's own commit waits.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
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

# The alerts of a request travel as one JSON array parameter, read back into rows by the
# database (PostgreSQL ``jsonb_to_recordset``, SQLite ``json_each``). Compared with a multi-row
# ``VALUES`` list of 16 parameters per alert this keeps the statement text constant and short:
# no per-parameter quoting in Python, and the database plans a small statement instead of a
# hundred correlated sub-selects (measured: 18 ms of planning per 100-alert request).
_PG_ROWS = (
    "ROWS FROM (jsonb_to_recordset(%s::jsonb) AS (f text, n text, s text, v text, l jsonb, "
    "a jsonb, t timestamptz, e timestamptz, g text)) WITH ORDINALITY AS r(f, n, s, v, l, a, t, "
    "e, g, i)"
)
_PG_FIELDS = {name: f"r.{name}" for name in "fnsvlateg"}
_PG_FIELDS["i"] = "r.i"
_SQLITE_ROWS = "json_each(%s) AS r"
_SQLITE_FIELDS = {name: f"json_extract(r.value, '$.{name}')" for name in "fnsvlateg"}
_SQLITE_FIELDS["i"] = "r.key"


def _rows_source() -> tuple[str, dict[str, str]]:
    """The FROM item that reads the JSON rows parameter, and each field's expression."""
    if connection.vendor == "postgresql":
        return _PG_ROWS, _PG_FIELDS
    return _SQLITE_ROWS, _SQLITE_FIELDS


def _dt_text(value: dt.datetime | None) -> str | None:
    """A time as the database reads it back from JSON text."""
    if value is None:
        return None
    if connection.vendor == "postgresql":
        return value.isoformat()
    return str(connection.ops.adapt_datetimefield_value(value))


def _rows_json(alerts: Sequence[AlertIn]) -> str:
    # orjson: this serialisation was an eighth of the endpoint's Python time with json.dumps.
    return orjson.dumps(
        [
            {
                "f": a.fingerprint,
                "n": a.alertname,
                "s": a.summary,
                "v": a.severity,
                "l": a.labels,
                "a": a.annotations,
                "t": _dt_text(a.starts_at),
                "e": _dt_text(a.ends_at),
                "g": a.generator_url,
            }
            for a in alerts
        ]
    ).decode()


def _upsert_firing(
    integration: Integration, batch_id: int, alerts: Sequence[AlertIn], now: Any
) -> None:
    source, f = _rows_source()
    j = _json_placeholder()
    sql = (
        f"INSERT INTO {ALERT_TABLE} ({_COLUMNS}) "  # noqa: S608
        f"SELECT %s, %s, {f['f']}, (SELECT COALESCE(MAX(c.cycle), 0) + 1 FROM {ALERT_TABLE} c "
        f"WHERE c.integration_id = %s AND c.fingerprint = {f['f']}), 'firing', '', TRUE, %s, "
        f"{f['n']}, {f['s']}, {f['v']}, {f['l']}, {f['a']}, {f['t']}, NULL, %s, %s, 0, "
        f"{f['g']}, FALSE, {j} FROM {source} WHERE TRUE ORDER BY {f['i']} "
        "ON CONFLICT (integration_id, fingerprint) WHERE status = 'firing' DO UPDATE SET "
        f"last_seen = excluded.last_seen, repeat_count = {ALERT_TABLE}.repeat_count + 1, "
        "annotations = excluded.annotations, summary = excluded.summary, "
        "severity = excluded.severity, generator_url = excluded.generator_url, "
        "batch_id = excluded.batch_id"
    )
    params = [
        integration.pk,
        integration.customer_id,
        integration.pk,
        batch_id,
        now,
        now,
        "{}",
        _rows_json(alerts),
    ]
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
    source, f = _rows_source()
    if updates:
        # One UPDATE … FROM the JSON rows (SQLite ≥ 3.33 and PostgreSQL).
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ALERT_TABLE} SET status = 'resolved', ends_at = {f['e']}, "  # noqa: S608
                "last_seen = %s, batch_id = %s, pending = CASE WHEN "
                f"{ALERT_TABLE}.processed_status = 'resolved' THEN FALSE ELSE TRUE END "
                f"FROM {source} WHERE {ALERT_TABLE}.integration_id = %s "
                f"AND {ALERT_TABLE}.fingerprint = {f['f']} AND {ALERT_TABLE}.status = 'firing'",
                [now, batch_id, _rows_json(updates), integration.pk],
            )
    if fresh:
        j = _json_placeholder()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {ALERT_TABLE} ({_COLUMNS}) "  # noqa: S608
                f"SELECT %s, %s, {f['f']}, 1, 'resolved', '', TRUE, %s, {f['n']}, {f['s']}, "
                f"{f['v']}, {f['l']}, {f['a']}, {f['t']}, {f['e']}, %s, %s, 0, {f['g']}, FALSE, "
                f"{j} FROM {source} WHERE TRUE ORDER BY {f['i']}",
                [
                    integration.pk,
                    integration.customer_id,
                    batch_id,
                    now,
                    now,
                    "{}",
                    _rows_json(fresh),
                ],
            )


BATCH_TABLE = IngestBatch._meta.db_table


def _pg_rows(param: str) -> str:
    return (
        f"ROWS FROM (jsonb_to_recordset(%({param})s::jsonb) AS (f text, n text, s text, v text, "
        "l jsonb, a jsonb, t timestamptz, e timestamptz, g text)) WITH ORDINALITY "
        "AS r(f, n, s, v, l, a, t, e, g, i)"
    )


# PostgreSQL: the whole acceptance is one statement. Data-modifying CTEs insert the batch row,
# upsert the firing alerts, resolve the known firing ones and insert resolved alerts never seen
# firing; the statement runs in autocommit (or in the caller's transaction), so it is atomic
# and committed when it returns: no BEGIN/COMMIT round trips, one network exchange (measured:
# 18,000 → 21,000 alerts/s on a quiet 2-core machine). The firing and resolved sets never share
# a fingerprint (``_dedupe``), so the CTEs touch disjoint rows; all of them read the same
# snapshot, as the separate statements of the SQLite path do.
_PG_ACCEPT = """
WITH b AS (
    INSERT INTO {batch} (integration_id, received_at, group_key, status, alert_count, meta,
                         actions, processed_at, claimed_at, fence, attempts, last_error)
    VALUES (%(integration)s, %(now)s, %(group_key)s, %(status)s, %(count)s, %(meta)s::jsonb,
            %(actions)s::jsonb, NULL, NULL, 0, 0, '')
    RETURNING id
), f AS (
    INSERT INTO {alert} ({columns})
    SELECT %(integration)s, %(customer)s, r.f,
           (SELECT COALESCE(MAX(c.cycle), 0) + 1 FROM {alert} c
             WHERE c.integration_id = %(integration)s AND c.fingerprint = r.f),
           'firing', '', TRUE, (SELECT id FROM b), r.n, r.s, r.v, r.l, r.a, r.t, NULL,
           %(now)s, %(now)s, 0, r.g, FALSE, '{{}}'::jsonb
      FROM {firing_rows}
     ORDER BY r.i
    ON CONFLICT (integration_id, fingerprint) WHERE status = 'firing' DO UPDATE SET
        last_seen = excluded.last_seen, repeat_count = {alert}.repeat_count + 1,
        annotations = excluded.annotations, summary = excluded.summary,
        severity = excluded.severity, generator_url = excluded.generator_url,
        batch_id = excluded.batch_id
), u AS (
    UPDATE {alert}
       SET status = 'resolved', ends_at = r.e, last_seen = %(now)s, batch_id = (SELECT id FROM b),
           pending = CASE WHEN {alert}.processed_status = 'resolved' THEN FALSE ELSE TRUE END
      FROM {resolved_rows}
     WHERE {alert}.integration_id = %(integration)s AND {alert}.fingerprint = r.f
       AND {alert}.status = 'firing'
), n AS (
    INSERT INTO {alert} ({columns})
    SELECT %(integration)s, %(customer)s, r.f, 1, 'resolved', '', TRUE, (SELECT id FROM b),
           r.n, r.s, r.v, r.l, r.a, r.t, r.e, %(now)s, %(now)s, 0, r.g, FALSE, '{{}}'::jsonb
      FROM {resolved_rows}
     WHERE NOT EXISTS (SELECT 1 FROM {alert} c
                        WHERE c.integration_id = %(integration)s AND c.fingerprint = r.f)
     ORDER BY r.i
)
SELECT id FROM b
""".format(  # noqa: S608 - table names from our models; every value is a parameter
    batch=BATCH_TABLE,
    alert=ALERT_TABLE,
    columns=_COLUMNS,
    firing_rows=_pg_rows("firing"),
    resolved_rows=_pg_rows("resolved"),
)


def _accept_postgresql(
    batch: IngestBatch, firing: Sequence[AlertIn], resolved: Sequence[AlertIn]
) -> int:
    """Run ``_PG_ACCEPT`` for the unsaved ``batch``; returns the new batch id."""
    params = {
        "integration": batch.integration_id,
        "customer": batch.integration.customer_id,
        "now": batch.received_at,
        "group_key": batch.group_key,
        "status": batch.status,
        "count": batch.alert_count,
        "meta": json.dumps(batch.meta, ensure_ascii=False),
        "actions": json.dumps(batch.actions, ensure_ascii=False),
        "firing": _rows_json(firing),
        "resolved": _rows_json(resolved),
    }
    with connection.cursor() as cursor:
        cursor.execute(_PG_ACCEPT, params)
        row = cursor.fetchone()
    return int(row[0])


def accept(
    integration: Integration, parsed: ParsedBatch, *, now: dt.datetime | None = None
) -> IngestBatch:
    """Commit the batch and its alerts; the worker is told after the commit."""
    from opsassure.alerting.tasks import alert_process_batch

    now = now or timezone.now()
    firing, resolved = _dedupe(parsed.alerts)
    batch = IngestBatch(
        integration=integration,
        received_at=now,
        group_key=parsed.group_key,
        status=parsed.status,
        alert_count=len(parsed.alerts),
        meta=parsed.meta,
        actions=parsed.actions,
    )
    if connection.vendor == "postgresql":
        batch.pk = _accept_postgresql(batch, firing, resolved)  # committed unless in a transaction
        batch._state.adding = False
        batch._state.db = connection.alias
    else:
        with transaction.atomic():
            batch.save()
            stamp = _dt(now)
            if firing:
                _upsert_firing(integration, batch.pk, firing, stamp)
            if resolved:
                _apply_resolved(integration, batch.pk, resolved, stamp)
    enqueue_on_commit(alert_process_batch, batch.pk)  # at once unless inside a transaction
    return batch
