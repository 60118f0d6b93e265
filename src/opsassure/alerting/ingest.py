"""Accepting a batch: commit one row holding its alerts, answer, and let a worker write them.

The request path (thousands of alerts per second) validates the payload, computes each
alert's identity (fingerprint) and status, keeps the last occurrence of each fingerprint,
and commits a single ``IngestBatch`` row whose ``staged`` column holds those alerts as JSON:
one ``INSERT``, in autocommit, before the 2xx. Everything after that is the worker's:

1. **Expansion** (``expand_through``), first thing a worker does with a batch: the staged
   alerts become ``Alert`` rows, in one transaction per few batches, in the order the
   integration's batches arrived (a per-integration lock: PostgreSQL advisory lock, SQLite's
   single writer). Firing alerts are one ``INSERT … SELECT … ON CONFLICT (integration_id,
   fingerprint) WHERE status = 'firing' DO UPDATE`` (a repeat bumps ``last_seen`` and
   ``repeat_count`` on the firing row; a new or re-fired alert inserts a row whose ``cycle``
   is one more than the fingerprint's last); resolved alerts update their firing row, or
   insert a row when never seen firing. On PostgreSQL this is one statement with
   data-modifying CTEs that reads the staged JSON in place (``jsonb_to_recordset``); SQLite
   runs the same steps as separate statements (``json_each``). The batch is marked expanded in
   the same transaction, so expanding twice is a no-op.
2. **Processing** (``processing``): enrichment, grouping, routing.

Why stage rather than write the alert rows in the request: the ``Alert`` table has ten
indexes and a partial unique constraint, and repeats of one fingerprint from several senders
queue on its row lock. Writing them cost the database ~9 ms per 100-alert request and made the
request wait for other requests' locks; one row costs ~1 ms and waits for nobody (measured by
``bench/ingest.py``; docs/alerting.md). An accepted alert is durable either way: it is in the
committed batch row until a worker writes its ``Alert`` row, and the sweep re-drives any batch
a worker has not finished.

Django's ``bulk_create(update_conflicts=True)`` cannot express the partial-index conflict
target or ``repeat_count + 1``, hence the SQL (standard upsert syntax; SQLite ≥ 3.35 and
PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from opsassure.alerting.models import Alert, IngestBatch, Integration, RateWindow
from opsassure.alerting.payloads import AlertIn, ParsedBatch
from opsassure.core.jobs import CoalescingSender

ALERT_TABLE = Alert._meta.db_table
BATCH_TABLE = IngestBatch._meta.db_table
RATE_TABLE = RateWindow._meta.db_table
# Arbitrary constant: the first key of the per-integration PostgreSQL advisory lock taken
# while a worker writes an integration's staged alerts (the second key is the integration).
_PG_EXPAND_LOCK_CLASS = 7_270_002
# Batches written per transaction by ``expand_through``.
EXPAND_CHUNK = 20


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


# --- the request: one row -------------------------------------------------------------------


def _rows(alerts: Sequence[AlertIn]) -> list[dict[str, Any]]:
    """The staged rows: the columns the expansion reads, one letter each. orjson writes the
    (aware) datetimes as RFC 3339, which PostgreSQL's ``timestamptz`` reads; the SQLite
    expansion turns them into Django's stored format (``_sqlite_times``)."""
    return [
        {
            "f": a.fingerprint,
            "n": a.alertname,
            "s": a.summary,
            "v": a.severity,
            "l": a.labels,
            "a": a.annotations,
            "t": a.starts_at,
            "e": a.ends_at,
            "g": a.generator_url,
        }
        for a in alerts
    ]


def stage(alerts: Iterable[AlertIn]) -> str:
    """The ``staged`` JSON of a batch: ``{"firing": [...], "resolved": [...]}``, one row per
    fingerprint (its last occurrence), each row the columns the expansion reads."""
    firing, resolved = _dedupe(alerts)
    # orjson: serialising with json.dumps was an eighth of the endpoint's Python time.
    return orjson.dumps({"firing": _rows(firing), "resolved": _rows(resolved)}).decode()


_INSERT_BATCH = (
    f"INSERT INTO {BATCH_TABLE} (integration_id, received_at, group_key, status, "  # noqa: S608
    "alert_count, meta, actions, staged, expanded_at, processed_at, claimed_at, fence, "
    "attempts, last_error) VALUES (%s, %s, %s, %s, %s, {json}, {json}, %s, NULL, NULL, NULL, 0, "
    "0, '') RETURNING id"
)


def accept(
    integration: Integration, parsed: ParsedBatch, *, now: dt.datetime | None = None
) -> IngestBatch:
    """Commit the batch row with its staged alerts; the worker is told after the commit.

    One ``INSERT`` (``RETURNING id``; Django's ``save`` compiles the same statement per call),
    in autocommit unless the caller holds a transaction."""
    from opsassure.alerting.tasks import alert_process_batch

    now = now or timezone.now()
    batch = IngestBatch(
        integration=integration,
        received_at=now,
        group_key=parsed.group_key,
        status=parsed.status,
        alert_count=len(parsed.alerts),
        meta=parsed.meta,
        actions=parsed.actions,
        staged=stage(parsed.alerts),
    )
    json_param = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_BATCH.format(json=json_param),
            [
                integration.pk,
                _dt(now),
                batch.group_key,
                batch.status,
                batch.alert_count,
                json.dumps(batch.meta, ensure_ascii=False),
                json.dumps(batch.actions, ensure_ascii=False),
                batch.staged,
            ],
        )
        row = cursor.fetchone()
    batch.pk = int(row[0])
    batch._state.adding = False
    batch._state.db = connection.alias
    pk = batch.pk
    transaction.on_commit(lambda: _notifier(alert_process_batch).send(pk))  # now, in autocommit
    return batch


_NOTIFIERS: dict[str, CoalescingSender] = {}


def _notifier(task: Any) -> CoalescingSender:
    window = float(getattr(settings, "OPSASSURE_ALERT_NOTIFY_WINDOW_SECONDS", 0.05))
    sender = _NOTIFIERS.get(task.name)
    if sender is None or sender.window != window:
        sender = _NOTIFIERS[task.name] = CoalescingSender(task, window)
    return sender


# --- the worker: staged alerts → Alert rows ---------------------------------------------------


def _pg_rows(source: str) -> str:
    return (
        f"ROWS FROM (jsonb_to_recordset({source}) AS (f text, n text, s text, v text, l jsonb, "
        "a jsonb, t timestamptz, e timestamptz, g text)) WITH ORDINALITY "
        "AS r(f, n, s, v, l, a, t, e, g, i)"
    )


# PostgreSQL: one statement per batch. Data-modifying CTEs read the staged JSON in place, mark
# the batch expanded, upsert the firing alerts, resolve the known firing ones and insert
# resolved alerts never seen firing. The firing and resolved sets never share a fingerprint
# (``_dedupe``), so the CTEs touch disjoint rows; all of them read the same snapshot, as the
# separate statements of the SQLite path do. ``last_seen`` never goes back: a batch that
# committed late is written after newer ones.
_PG_EXPAND = """
WITH src AS (
    SELECT id, received_at, staged::jsonb AS j FROM {batch}
     WHERE id = %(batch)s AND expanded_at IS NULL
), done AS (
    UPDATE {batch} SET expanded_at = %(now)s, staged = '' WHERE id IN (SELECT id FROM src)
), f AS (
    INSERT INTO {alert} ({columns})
    SELECT %(integration)s, %(customer)s, r.f,
           (SELECT COALESCE(MAX(c.cycle), 0) + 1 FROM {alert} c
             WHERE c.integration_id = %(integration)s AND c.fingerprint = r.f),
           'firing', '', TRUE, src.id, r.n, r.s, r.v, r.l, r.a, r.t, NULL,
           src.received_at, src.received_at, 0, r.g, FALSE, '{{}}'::jsonb
      FROM src, {firing_rows}
     ORDER BY r.i
    ON CONFLICT (integration_id, fingerprint) WHERE status = 'firing' DO UPDATE SET
        last_seen = GREATEST({alert}.last_seen, excluded.last_seen),
        repeat_count = {alert}.repeat_count + 1,
        annotations = excluded.annotations, summary = excluded.summary,
        severity = excluded.severity, generator_url = excluded.generator_url,
        batch_id = excluded.batch_id
), u AS (
    UPDATE {alert}
       SET status = 'resolved', ends_at = r.e, last_seen = GREATEST({alert}.last_seen,
           src.received_at), batch_id = src.id,
           pending = CASE WHEN {alert}.processed_status = 'resolved' THEN FALSE ELSE TRUE END
      FROM src, {resolved_rows}
     WHERE {alert}.integration_id = %(integration)s AND {alert}.fingerprint = r.f
       AND {alert}.status = 'firing'
), n AS (
    INSERT INTO {alert} ({columns})
    SELECT %(integration)s, %(customer)s, r.f, 1, 'resolved', '', TRUE, src.id,
           r.n, r.s, r.v, r.l, r.a, r.t, r.e, src.received_at, src.received_at, 0, r.g, FALSE,
           '{{}}'::jsonb
      FROM src, {resolved_rows}
     WHERE NOT EXISTS (SELECT 1 FROM {alert} c
                        WHERE c.integration_id = %(integration)s AND c.fingerprint = r.f)
     ORDER BY r.i
)
SELECT COUNT(*) FROM src
""".format(  # noqa: S608 - table names from our models; every value is a parameter
    batch=BATCH_TABLE,
    alert=ALERT_TABLE,
    columns=_COLUMNS,
    firing_rows=_pg_rows("src.j -> 'firing'"),
    resolved_rows=_pg_rows("src.j -> 'resolved'"),
)

_SQLITE_ROWS = "json_each(%s) AS r"
_SQLITE_FIELDS = {name: f"json_extract(r.value, '$.{name}')" for name in "fnsvlateg"}


def _expand_postgresql(integration: Integration, batch_id: int, now: dt.datetime) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            _PG_EXPAND,
            {
                "batch": batch_id,
                "now": now,
                "integration": integration.pk,
                "customer": integration.customer_id,
            },
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _expand_sqlite(integration: Integration, batch_id: int, now: dt.datetime) -> bool:
    found = (
        IngestBatch.objects.filter(pk=batch_id, expanded_at__isnull=True)
        .values_list("staged", "received_at")
        .first()
    )
    if found is None:
        return False
    staged, received_at = found
    IngestBatch.objects.filter(pk=batch_id).update(expanded_at=now, staged="")
    data = orjson.loads(staged or "{}")
    for rows in data.values():
        _sqlite_times(rows)
    stamp = _dt(received_at)
    if data.get("firing"):
        _upsert_firing_sqlite(integration, batch_id, data["firing"], stamp)
    if data.get("resolved"):
        _apply_resolved_sqlite(integration, batch_id, data["resolved"], stamp)
    return True


def _sqlite_times(rows: list[dict[str, Any]]) -> None:
    """RFC 3339 times → the text SQLite columns hold (Django's format: SQLite compares times
    as text, so one format throughout)."""
    adapt = connection.ops.adapt_datetimefield_value
    for row in rows:
        for key in ("t", "e"):
            if row.get(key):
                row[key] = str(adapt(dt.datetime.fromisoformat(row[key])))


def _upsert_firing_sqlite(
    integration: Integration, batch_id: int, rows: list[dict[str, Any]], stamp: Any
) -> None:
    f = _SQLITE_FIELDS
    sql = (
        f"INSERT INTO {ALERT_TABLE} ({_COLUMNS}) "  # noqa: S608
        f"SELECT %s, %s, {f['f']}, (SELECT COALESCE(MAX(c.cycle), 0) + 1 FROM {ALERT_TABLE} c "
        f"WHERE c.integration_id = %s AND c.fingerprint = {f['f']}), 'firing', '', TRUE, %s, "
        f"{f['n']}, {f['s']}, {f['v']}, {f['l']}, {f['a']}, {f['t']}, NULL, %s, %s, 0, "
        f"{f['g']}, FALSE, %s FROM {_SQLITE_ROWS} WHERE TRUE ORDER BY r.key "
        "ON CONFLICT (integration_id, fingerprint) WHERE status = 'firing' DO UPDATE SET "
        f"last_seen = MAX({ALERT_TABLE}.last_seen, excluded.last_seen), "
        f"repeat_count = {ALERT_TABLE}.repeat_count + 1, "
        "annotations = excluded.annotations, summary = excluded.summary, "
        "severity = excluded.severity, generator_url = excluded.generator_url, "
        "batch_id = excluded.batch_id"
    )
    params = [
        integration.pk,
        integration.customer_id,
        integration.pk,
        batch_id,
        stamp,
        stamp,
        "{}",
        orjson.dumps(rows).decode(),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _apply_resolved_sqlite(
    integration: Integration, batch_id: int, rows: list[dict[str, Any]], stamp: Any
) -> None:
    known: set[str] = set()
    fingerprints = [row["f"] for row in rows]
    for start in range(0, len(fingerprints), 500):
        known.update(
            Alert.objects.filter(
                integration=integration, fingerprint__in=fingerprints[start : start + 500]
            ).values_list("fingerprint", flat=True)
        )
    updates = [row for row in rows if row["f"] in known]
    fresh = [row for row in rows if row["f"] not in known]
    f = _SQLITE_FIELDS
    if updates:
        # One UPDATE … FROM the JSON rows (SQLite ≥ 3.33).
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ALERT_TABLE} SET status = 'resolved', ends_at = {f['e']}, "  # noqa: S608
                f"last_seen = MAX({ALERT_TABLE}.last_seen, %s), batch_id = %s, pending = CASE "
                f"WHEN {ALERT_TABLE}.processed_status = 'resolved' THEN FALSE ELSE TRUE END "
                f"FROM {_SQLITE_ROWS} WHERE {ALERT_TABLE}.integration_id = %s "
                f"AND {ALERT_TABLE}.fingerprint = {f['f']} AND {ALERT_TABLE}.status = 'firing'",
                [stamp, batch_id, orjson.dumps(updates).decode(), integration.pk],
            )
    if fresh:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {ALERT_TABLE} ({_COLUMNS}) "  # noqa: S608
                f"SELECT %s, %s, {f['f']}, 1, 'resolved', '', TRUE, %s, {f['n']}, {f['s']}, "
                f"{f['v']}, {f['l']}, {f['a']}, {f['t']}, {f['e']}, %s, %s, 0, {f['g']}, FALSE, "
                f"%s FROM {_SQLITE_ROWS} WHERE TRUE ORDER BY r.key",
                [
                    integration.pk,
                    integration.customer_id,
                    batch_id,
                    stamp,
                    stamp,
                    "{}",
                    orjson.dumps(fresh).decode(),
                ],
            )


def expand_through(integration: Integration, upto: int, now: dt.datetime | None = None) -> int:
    """Write the ``Alert`` rows of the integration's staged batches up to batch ``upto``,
    oldest first; returns how many batches this call wrote.

    One transaction per ``EXPAND_CHUNK`` batches, holding the integration's lock
    (PostgreSQL: an advisory lock; SQLite: the write lock its ``IMMEDIATE`` transactions take
    at the start), so two workers never write one integration's batches out of order and a
    batch is written once (``expanded_at`` is set in the same transaction).
    """
    now = now or timezone.now()
    postgres = connection.vendor == "postgresql"
    expand = _expand_postgresql if postgres else _expand_sqlite
    written = 0
    while True:
        with transaction.atomic():
            if postgres:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_xact_lock(%s, %s)",
                        [_PG_EXPAND_LOCK_CLASS, integration.pk],
                    )
            waiting = list(
                IngestBatch.objects.filter(
                    integration_id=integration.pk, expanded_at__isnull=True, pk__lte=upto
                )
                .order_by("pk")
                .values_list("pk", flat=True)[:EXPAND_CHUNK]
            )
            for batch_id in waiting:
                written += expand(integration, batch_id, now)
        if len(waiting) < EXPAND_CHUNK:
            return written


def expand_waiting(now: dt.datetime | None = None, *, kind: str = "") -> int:
    """Write every staged batch's alert rows (of integrations of ``kind``, if given),
    integration by integration: what the workers do batch by batch, for code that must read
    the current alert rows (monitoring asks whether its own alert is firing), benchmarks and
    tests."""
    written = 0
    batches = IngestBatch.objects.filter(expanded_at__isnull=True)
    if kind:
        batches = batches.filter(integration__kind=kind)
    waiting = batches.values_list("integration_id").annotate(last=models.Max("id"))
    for integration_id, last in list(waiting):
        integration = Integration.objects.get(pk=integration_id)
        written += expand_through(integration, last, now)
    return written
