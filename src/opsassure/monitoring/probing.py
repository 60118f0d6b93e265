"""The probe protocol, server side: assignments, results, heartbeats, staleness.

- ``assignments_payload(probe)``: the checks a probe runs and an ETag over them (a probe polls
  with If-None-Match, so an unchanged assignment costs one query and no body).
- ``accept_results(probe, batch_id, results)``: one transaction. A batch id seen before is
  acknowledged without counting anything again; each result is refused (unassigned check,
  timestamp in the future or past retention) or stored once (unique (check, started_at,
  probe)); then the per-probe and per-check state machines run and transitions raise or
  resolve alerts through ``monitoring.alerts``.
- ``record_heartbeat`` and ``sweep_stale`` (silent probes, checks not executed).

The input side (``parse_results``) lives in ``probing_input``; the API and the local probe both
go through it, so they accept exactly the same thing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Field, Model, Q, QuerySet
from django.utils import timezone

from opsassure.core.jobs import enqueue_on_commit
from opsassure.monitoring import rollups
from opsassure.monitoring.metrics import SampleIn, store_samples
from opsassure.monitoring.models import (
    CheckResult,
    CheckState,
    Monitor,
    MonitorProbeState,
    Probe,
    ResultBatch,
    ResultStatus,
)
from opsassure.monitoring.probing_health import alert_transition, record_heartbeat, sweep_stale
from opsassure.monitoring.probing_input import (
    BatchTooLargeError,
    ProtocolError,
    ResultIn,
    parse_results,
)

__all__ = [
    "BatchAnswer",
    "BatchTooLargeError",
    "ProtocolError",
    "ResultIn",
    "accept_results",
    "assigned_monitors",
    "assignments_payload",
    "parse_results",
    "record_heartbeat",
    "sweep_stale",
]

MAX_POLL_SECONDS = 30
_ROWS = 500  # per statement (SQLite's bound-parameter limit)


# --- assignments ----------------------------------------------------------------------------


def assigned_monitors(probe: Probe) -> QuerySet[Monitor]:
    """Enabled checks this probe runs: those that name it, and for the local probe also those
    that name no probe; a customer's probe only ever gets that customer's checks."""
    scope = Monitor.objects.filter(enabled=True)
    if not probe.enabled or probe.revoked_at is not None:
        return scope.none()
    if probe.is_local:
        scope = scope.filter(Q(probes__isnull=True) | Q(probes=probe)).distinct()
    else:
        scope = scope.filter(probes=probe)
    if probe.customer_id is not None:
        scope = scope.filter(customer_id=probe.customer_id)
    return scope


def assignments_payload(probe: Probe) -> tuple[dict[str, Any], str]:
    """(the JSON body, its ETag). The ETag is a digest of the body, so any change to a check
    (or to the set of checks) changes it."""
    rows = (
        assigned_monitors(probe)
        .order_by("id")
        .values_list(
            "id",
            "kind",
            "target",
            "settings",
            "interval_seconds",
            "timeout_seconds",
            "retries",
            "config_version",
        )
    )
    intervals = [MAX_POLL_SECONDS]
    checks: list[dict[str, Any]] = [
        {
            "id": pk,
            "kind": kind,
            "target": target,
            "settings": check_settings or {},
            "interval_seconds": interval,
            "timeout_seconds": timeout,
            "retries": retries,
            "config_version": version,
        }
        for pk, kind, target, check_settings, interval, timeout, retries, version in rows
    ]
    intervals.extend(int(check["interval_seconds"]) for check in checks)
    poll = min(intervals)
    data = {
        "probe": {"id": probe.pk, "name": probe.name, "zone": probe.zone},
        "poll_seconds": poll,
        "checks": checks,
    }
    digest = hashlib.sha256(
        json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")
    ).hexdigest()
    return data, f'"{digest[:32]}"'


# --- results --------------------------------------------------------------------------------


@dataclass
class BatchAnswer:
    accepted: int
    duplicates: int
    refused: list[dict[str, Any]] = field(default_factory=list)
    replay: bool = False

    def as_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "refused": self.refused,
        }
        if self.replay:
            answer["replay"] = True
        return answer


def _chunks(items: Sequence[Any], size: int = _ROWS) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def accept_results(
    probe: Probe,
    batch_id: uuid.UUID,
    results: Sequence[ResultIn],
    *,
    now: dt.datetime | None = None,
) -> BatchAnswer:
    """Store a batch of results from ``probe`` and move the checks' states (one transaction).

    A replayed batch (same probe, same ``batch_id``) is answered with ``replay: true``, the
    stored accepted count and the rest as duplicates; nothing is stored or counted again.
    """
    now = now or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                batch = ResultBatch.objects.create(
                    probe=probe, batch_id=batch_id, received_at=now, result_count=len(results)
                )
        except IntegrityError:
            seen = ResultBatch.objects.get(probe=probe, batch_id=batch_id)
            return BatchAnswer(
                accepted=seen.accepted_count,
                duplicates=seen.result_count - seen.accepted_count,
                replay=True,
            )
        answer, fresh = _store(probe, results, now)
        if fresh:
            stamps = [result.started_at for rows in fresh.values() for result in rows]
            rollups.note_late(min(stamps), max(stamps), now=now)
            _advance(probe, fresh, now)
        ResultBatch.objects.filter(pk=batch.pk).update(accepted_count=answer.accepted)
    return answer


def _store(
    probe: Probe, results: Sequence[ResultIn], now: dt.datetime
) -> tuple[BatchAnswer, dict[int, list[ResultIn]]]:
    """Refuse what must be refused, insert the rest once; the new results grouped by check."""
    wanted = sorted({result.check_id for result in results})
    assigned: set[int] = set()
    for chunk in _chunks(wanted):
        assigned.update(assigned_monitors(probe).filter(pk__in=chunk).values_list("pk", flat=True))
    latest = now + dt.timedelta(seconds=settings.MONITORING_MAX_FUTURE_SECONDS)
    earliest = now - dt.timedelta(days=settings.MONITORING_RAW_RETENTION_DAYS)
    refused: list[dict[str, Any]] = []
    candidates: list[ResultIn] = []
    for index, result in enumerate(results):
        if result.check_id not in assigned:
            refused.append({"index": index, "reason": "not_assigned"})
        elif result.started_at > latest:
            refused.append({"index": index, "reason": "future"})
        elif result.started_at < earliest:
            refused.append({"index": index, "reason": "too_old"})
        else:
            candidates.append(result)
    stored: set[tuple[int, dt.datetime]] = set()
    if candidates:
        low = min(result.started_at for result in candidates)
        high = max(result.started_at for result in candidates)
        ids = sorted({result.check_id for result in candidates})
        for chunk in _chunks(ids):
            stored.update(
                CheckResult.objects.filter(
                    probe=probe, monitor_id__in=chunk, started_at__range=(low, high)
                ).values_list("monitor_id", "started_at")
            )
    rows: list[CheckResult] = []
    fresh: dict[int, list[ResultIn]] = defaultdict(list)
    duplicates = 0
    for result in candidates:
        key = (result.check_id, result.started_at)
        if key in stored:
            duplicates += 1
            continue
        stored.add(key)
        fresh[result.check_id].append(result)
        rows.append(
            CheckResult(
                monitor_id=result.check_id,
                probe_id=probe.pk,
                started_at=result.started_at,
                status=result.status,
                response_ms=result.response_ms,
                message=result.message,
            )
        )
    CheckResult.objects.bulk_create(rows, ignore_conflicts=True, batch_size=_ROWS)
    return BatchAnswer(accepted=len(rows), duplicates=duplicates, refused=refused), fresh


def step(
    row: MonitorProbeState, status: int, *, failure_threshold: int, success_threshold: int
) -> None:
    """One result through a probe's state machine: down after ``failure_threshold``
    consecutive failures; from down, up (or degraded) after ``success_threshold`` consecutive
    answers; otherwise an answer sets up or degraded at once (also the first from unknown)."""
    if status == ResultStatus.DOWN:
        row.consecutive_failures += 1
        row.consecutive_successes = 0
        if row.consecutive_failures >= max(1, failure_threshold):
            row.state = CheckState.DOWN
        return
    row.consecutive_failures = 0
    row.consecutive_successes += 1
    if row.state == CheckState.DOWN and row.consecutive_successes < max(1, success_threshold):
        return
    row.state = CheckState.DEGRADED if status == ResultStatus.DEGRADED else CheckState.UP


def overall(states: Sequence[str]) -> str:
    """A check's state over its probes: all down → down, some down or any degraded →
    degraded, all up → up; probes with no verdict yet do not count."""
    known = [state for state in states if state != CheckState.UNKNOWN]
    if not known:
        return CheckState.UNKNOWN
    if all(state == CheckState.DOWN for state in known):
        return CheckState.DOWN
    if all(state == CheckState.UP for state in known):
        return CheckState.UP
    return CheckState.DEGRADED


def _advance(probe: Probe, fresh: dict[int, list[ResultIn]], now: dt.datetime) -> None:
    ids = sorted(fresh)
    monitors: dict[int, Monitor] = {}
    for chunk in _chunks(ids):
        monitors.update(
            (monitor.pk, monitor)
            for monitor in Monitor.objects.filter(pk__in=chunk)
            .order_by("pk")
            .select_for_update(of=("self",))
        )
    states: dict[int, MonitorProbeState] = {}
    for chunk in _chunks(ids):
        states.update(
            (row.monitor_id, row)
            for row in MonitorProbeState.objects.filter(probe=probe, monitor_id__in=chunk)
        )
    new_states: list[MonitorProbeState] = []
    moved_states: list[MonitorProbeState] = []
    changed_verdict: list[int] = []
    samples: dict[int, list[SampleIn]] = {}
    monitors_to_save: list[Monitor] = []
    for monitor_id in ids:
        monitor = monitors[monitor_id]
        results = sorted(fresh[monitor_id], key=lambda result: result.started_at)
        row = states.get(monitor_id)
        if row is None:
            row = MonitorProbeState(monitor_id=monitor_id, probe_id=probe.pk)
            new_states.append(row)
        else:
            moved_states.append(row)
        before = row.state
        for result in results:
            if row.last_run_at is not None and result.started_at <= row.last_run_at:
                continue  # a late result: stored for history, not replayed into the state
            step(
                row,
                result.status,
                failure_threshold=monitor.failure_threshold,
                success_threshold=monitor.success_threshold,
            )
            row.last_run_at = result.started_at
        if row.state != before:
            changed_verdict.append(monitor_id)
        newest = results[-1]
        if monitor.last_result_at is None or newest.started_at > monitor.last_result_at:
            monitor.last_result_at = newest.started_at
            monitor.last_status = newest.status
            monitor.last_response_ms = newest.response_ms
            monitor.last_message = newest.message
            tls = [result for result in results if result.cert_expires_at is not None]
            if tls:
                monitor.cert_expires_at = tls[-1].cert_expires_at
            monitors_to_save.append(monitor)
        metric_rows = [
            SampleIn(
                name=item.name,
                value=item.value,
                ts=result.started_at,
                dimension=item.dimension,
                unit=item.unit,
            )
            for result in results
            for item in result.metrics
        ]
        if metric_rows:
            samples[monitor_id] = metric_rows
    MonitorProbeState.objects.bulk_create(new_states, batch_size=_ROWS)
    _update_rows(
        MonitorProbeState,
        moved_states,
        ["state", "consecutive_failures", "consecutive_successes", "last_run_at"],
    )
    transitions = _recompute(probe, [monitors[pk] for pk in changed_verdict], fresh)
    saved = {monitor.pk: monitor for monitor in monitors_to_save}
    saved.update((monitor.pk, monitor) for monitor, _old in transitions)
    _update_rows(
        Monitor,
        list(saved.values()),
        [
            "last_result_at",
            "last_status",
            "last_response_ms",
            "last_message",
            "cert_expires_at",
            "state",
            "state_since",
        ],
    )
    for monitor, old in transitions:
        alert_transition(monitor, old)
    series: list[int] = []
    for monitor_id, rows in samples.items():
        monitor = monitors[monitor_id]
        touched, _inserted = store_samples(
            customer_id=monitor.customer_id,
            ci_id=monitor.ci_id,
            samples=rows,
            monitor_id=monitor_id,
        )
        series.extend(touched)
    if series:
        from opsassure.monitoring.tasks import monitoring_evaluate

        enqueue_on_commit(monitoring_evaluate, sorted(series))


def _update_rows(model: type[Model], rows: Sequence[Model], fields: list[str]) -> None:
    """``UPDATE … SET fields WHERE id = …`` for each row, as one ``executemany``: Django's
    ``bulk_update`` builds a CASE per field and row, several times slower at 1,000 rows."""
    if not rows:
        return
    meta = model._meta
    columns: list[Field[Any, Any]] = [meta.get_field(name) for name in fields]  # type: ignore[misc]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(field.column))} = %s" for field in columns)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE id = %s"  # noqa: S608
    params = [
        [field.get_db_prep_save(getattr(row, field.attname), connection) for field in columns]
        + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _recompute(
    probe: Probe, monitors: list[Monitor], fresh: dict[int, list[ResultIn]]
) -> list[tuple[Monitor, str]]:
    """New check states from every relevant probe's verdict; (monitor, old state) per change.
    Relevant: the check's probes, or the local probe for a check that names none."""
    if not monitors:
        return []
    ids = [monitor.pk for monitor in monitors]
    through = Monitor.probes.through
    named: dict[int, set[int]] = defaultdict(set)
    verdicts: dict[int, dict[int, str]] = defaultdict(dict)
    for chunk in _chunks(ids):
        for monitor_id, probe_id in through.objects.filter(monitor_id__in=chunk).values_list(
            "monitor_id", "probe_id"
        ):
            named[monitor_id].add(probe_id)
        for monitor_id, probe_id, state in MonitorProbeState.objects.filter(
            monitor_id__in=chunk
        ).values_list("monitor_id", "probe_id", "state"):
            verdicts[monitor_id][probe_id] = state
    local = (
        probe.pk
        if probe.is_local
        else Probe.objects.filter(is_local=True).values_list("pk", flat=True).first()
    )
    changes: list[tuple[Monitor, str]] = []
    for monitor in monitors:
        relevant: set[int | None] = set(named[monitor.pk]) if named.get(monitor.pk) else {local}
        state = overall([s for pid, s in verdicts[monitor.pk].items() if pid in relevant])
        if state != monitor.state:
            changes.append((monitor, monitor.state))
            monitor.state = state
            monitor.state_since = max(result.started_at for result in fresh[monitor.pk])
    return changes
