"""The worker side of ingest: everything that happens after a batch was committed.

``process_batch(batch_id)`` claims the batch (conditional UPDATE with a fence, so one worker at
a time), then handles each of its alerts whose ``pending`` flag is set — enrichment from the
CMDB, suppression, grouping, flapping, routing (incident, notify, paging, drop) and group
resolution — one savepoint per alert, and marks the batch processed. Safe to run twice: the
per-alert flag and the partial unique constraint on open groups make a repeat a no-op. A
batch left unprocessed (lost message, killed worker) is re-driven by ``sweep``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from opsassure.alerting import ingest, paging, routing
from opsassure.alerting.enrichment import Enricher
from opsassure.alerting.models import (
    SEVERITY_RANK,
    Alert,
    AlertEvent,
    AlertGroup,
    GroupState,
    IngestBatch,
    Integration,
    RateWindow,
    RoutingRule,
)
from opsassure.alerting.suppression import Context
from opsassure.cmdb.models import ConfigurationItem

logger = logging.getLogger(__name__)
REDRIVE_AFTER = dt.timedelta(seconds=30)
SWEEP_LIMIT = 500


def event(
    kind: str,
    *,
    group: AlertGroup | None = None,
    alert: Alert | None = None,
    at: dt.datetime | None = None,
    message: str = "",
    data: dict[str, Any] | None = None,
    actor: Any = None,
) -> AlertEvent:
    customer_id = group.customer_id if group is not None else (alert.customer_id if alert else None)
    return AlertEvent.objects.create(
        customer_id=customer_id,
        group=group,
        alert=alert,
        kind=kind,
        at=at or timezone.now(),
        message=message[:500],
        data=data or {},
        actor=actor,
    )


def group_key(integration: Integration, batch_key: str, alert: Alert) -> str:
    """Configured labels, else the sender's group key, else alertname + instance/host."""
    labels = alert.labels
    if integration.group_by:
        chosen = {str(name): labels.get(str(name), "") for name in integration.group_by}
        return "labels:" + json.dumps(chosen, sort_keys=True, ensure_ascii=False)
    if batch_key:
        return "sender:" + batch_key
    host = labels.get("instance") or labels.get("host") or labels.get("hostname") or ""
    return "default:" + json.dumps(
        {"alertname": labels.get("alertname", ""), "instance": host}, ensure_ascii=False
    )


def _title(integration: Integration, batch: IngestBatch, alert: Alert) -> str:
    if integration.group_by:
        parts = [f"{name}={alert.labels.get(str(name), '')}" for name in integration.group_by]
        return ", ".join(parts)[:300]
    group_labels = batch.meta.get("groupLabels") if batch.group_key else None
    if isinstance(group_labels, dict) and group_labels:
        return ", ".join(f"{k}={v}" for k, v in sorted(group_labels.items()))[:300]
    host = alert.labels.get("instance") or alert.labels.get("host") or ""
    name = alert.alertname or alert.summary or alert.fingerprint
    return (f"{name} · {host}" if host else name)[:300]


class Run:
    """What one worker run shares across its batches: the active silences, windows and
    inhibition rules, the enabled routing rules and the CMDB lookups (per customer scope).

    Loaded at most once a second of a run (``RUN_REFRESH``), so an edit made meanwhile applies
    within about a second.
    """

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self._suppression: Context | None = None
        self._rules: list[RoutingRule] | None = None
        self.enrichers: dict[int | None, Enricher] = {}

    @property
    def suppression(self) -> Context:
        if self._suppression is None:
            self._suppression = Context.load(self.now)
        return self._suppression

    @property
    def rules(self) -> list[RoutingRule]:
        if self._rules is None:
            self._rules = routing.enabled_rules()
        return self._rules

    def enricher(self, customer_id: int | None) -> Enricher:
        if customer_id not in self.enrichers:
            self.enrichers[customer_id] = Enricher(customer_id)
        return self.enrichers[customer_id]


class Processor:
    """Handles the pending alerts of one batch (caches CMDB lookups and active silences)."""

    def __init__(self, batch: IngestBatch, now: dt.datetime, run: Run | None = None) -> None:
        self.batch = batch
        self.integration = batch.integration
        self.now = now
        self.run = run or Run(now)
        self.enricher = self.run.enricher(self.integration.customer_id)
        self.touched: set[int] = set()  # groups to recount once the batch's alerts are in

    @property
    def suppression(self) -> Context:
        return self.run.suppression

    def handle(self, alert_id: int) -> bool:
        try:
            with transaction.atomic():
                return self._handle(alert_id)
        except Exception as error:  # one bad alert must not block its batch forever
            if is_transient(error):
                raise  # a deadlock or a busy database is not the alert's fault: retry the batch
            logger.exception("alert %s could not be processed", alert_id)
            with transaction.atomic():
                alert = Alert.objects.filter(pk=alert_id).first()
                if alert is not None:
                    event(AlertEvent.Kind.ERROR, alert=alert, message=str(error))
                    Alert.objects.filter(pk=alert_id, status=alert.status).update(
                        processed_status=alert.status, pending=False
                    )
            return False

    def _handle(self, alert_id: int) -> bool:
        alert = Alert.objects.select_for_update().filter(pk=alert_id, pending=True).first()
        if alert is None:
            return False
        first_time = alert.processed_status == ""
        if first_time:
            self._enrich(alert)
            found = self.suppression.suppressor(alert) if alert.status == "firing" else {}
            alert.suppressed = bool(found)
            alert.suppressed_by = found
            alert.group = self._group_for(alert)
        group = alert.group
        alert.processed_status = alert.status
        alert.pending = False
        alert.save(
            update_fields=[
                "processed_status",
                "pending",
                "ci",
                "customer",
                "suppressed",
                "suppressed_by",
                "group",
            ]
        )
        if alert.status == "firing":
            kind = AlertEvent.Kind.SUPPRESSED if alert.suppressed else AlertEvent.Kind.FIRED
            event(
                kind,
                group=group,
                alert=alert,
                at=alert.starts_at,
                message=alert.summary,
                data=alert.suppressed_by or {},
            )
            if group is not None:
                self._check_flapping(group, alert)
        else:
            event(
                AlertEvent.Kind.RESOLVED,
                group=group,
                alert=alert,
                at=alert.ends_at or self.now,
                message=alert.summary,
            )
        if group is not None:
            self.touched.add(group.pk)
        return True

    def _enrich(self, alert: Alert) -> None:
        ci_id = self.enricher.ci_for(alert.labels)
        alert.ci_id = ci_id
        if alert.customer_id is None and ci_id is not None:
            alert.customer_id = (
                ConfigurationItem.objects.filter(pk=ci_id)
                .values_list("customer_id", flat=True)
                .first()
            )

    def _group_for(self, alert: Alert) -> AlertGroup:
        key = group_key(self.integration, self.batch.group_key, alert)
        key_hash = hashlib.sha256(f"{alert.customer_id or ''}|{key}".encode()).hexdigest()
        existing = AlertGroup.objects.filter(
            integration=self.integration, key_hash=key_hash, is_open=True
        ).first()
        if existing is not None:
            if existing.ci_id is None and alert.ci_id is not None:
                existing.ci_id = alert.ci_id
                AlertGroup.objects.filter(pk=existing.pk).update(ci_id=alert.ci_id)
            return existing
        ci = ConfigurationItem.objects.filter(pk=alert.ci_id).first() if alert.ci_id else None
        try:
            with transaction.atomic():  # a savepoint: a concurrent worker may win the race
                group = AlertGroup.objects.create(
                    customer_id=alert.customer_id,
                    integration=self.integration,
                    group_key=key,
                    key_hash=key_hash,
                    title=_title(self.integration, self.batch, alert),
                    severity=alert.severity,
                    labels=alert.labels,
                    ci=ci,
                    owner_team_id=ci.owner_team_id if ci is not None else None,
                    service=routing.service_for(alert),
                    started_at=alert.starts_at,
                    last_alert_at=self.now,
                )
        except IntegrityError:
            return AlertGroup.objects.get(
                integration=self.integration, key_hash=key_hash, is_open=True
            )
        event(AlertEvent.Kind.GROUP_OPENED, group=group, at=self.now, message=group.title)
        return group

    def _check_flapping(self, group: AlertGroup, alert: Alert) -> None:
        integration = self.integration
        if not integration.flap_changes or group.flapping:
            return
        # Each cycle row holds at most two changes (fired, resolved): a fingerprint seen in
        # fewer cycles than that cannot have flapped, and needs no query (most new alerts).
        if 2 * alert.cycle < integration.flap_changes:
            return
        since = self.now - dt.timedelta(minutes=integration.flap_window_minutes)
        history = Alert.objects.filter(integration=integration, fingerprint=alert.fingerprint)
        changes = (
            history.filter(starts_at__gte=since).count()
            + history.filter(ends_at__gte=since).count()
        )
        if changes >= integration.flap_changes:
            AlertGroup.objects.filter(pk=group.pk).update(flapping=True)
            group.flapping = True
            event(
                AlertEvent.Kind.FLAPPING,
                group=group,
                alert=alert,
                at=self.now,
                message=f"{changes} state changes within {integration.flap_window_minutes} min",
                data={"changes": changes},
            )


def refresh_group(
    group: AlertGroup, now: dt.datetime, rules: list[RoutingRule] | None = None
) -> None:
    """Recount the group's alerts and move its state; route, resolve as needed (locked)."""
    group = (
        AlertGroup.objects.select_for_update(of=("self",))
        .select_related("integration", "customer")
        .get(pk=group.pk)
    )
    rows = (
        Alert.objects.filter(group=group)
        .values("status", "suppressed", "severity")
        .annotate(n=Count("id"))
    )
    total = firing = active = 0
    severity_rank = 9
    for row in rows:
        total += row["n"]
        if row["status"] == "firing":
            firing += row["n"]
            severity_rank = min(severity_rank, SEVERITY_RANK.get(row["severity"], 2))
            if not row["suppressed"]:
                active += row["n"]
    severities = {rank: name for name, rank in SEVERITY_RANK.items()}
    group.alert_count = total
    group.firing_count = firing
    group.last_alert_at = now
    if firing:
        group.severity = severities.get(severity_rank, group.severity)
    if not group.is_open:
        group.save(update_fields=["alert_count", "firing_count", "last_alert_at", "updated_at"])
        return
    if firing == 0:
        resolve_group(group, now)
        return
    if active == 0:
        group.state = GroupState.SUPPRESSED
    elif group.acknowledged_at is not None:
        group.state = GroupState.ACKNOWLEDGED
    else:
        group.state = GroupState.FIRING
    group.save(
        update_fields=[
            "alert_count",
            "firing_count",
            "last_alert_at",
            "severity",
            "state",
            "updated_at",
        ]
    )
    if active and not group.action and not group.flapping:
        routing.route(group, now, rules)


def resolve_group(group: AlertGroup, now: dt.datetime) -> None:
    group.state = GroupState.RESOLVED
    group.is_open = False
    group.resolved_at = now
    group.save()
    event(AlertEvent.Kind.GROUP_RESOLVED, group=group, at=now, message=group.title)
    routing.on_group_resolved(group, now)


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "OPSASSURE_ALERT_BATCH_LEASE_SECONDS", 120)))


def run_batches() -> int:
    return max(1, int(getattr(settings, "OPSASSURE_ALERT_RUN_BATCHES", 50)))


def _claim(batch_id: int, now: dt.datetime, limit: int) -> dict[int, int]:
    """Claim ``batch_id`` and up to ``limit - 1`` other claimable batches (oldest first) in one
    conditional UPDATE; returns {batch id: fence} of what this worker now holds.

    The conditions are repeated outside the sub-select: a concurrent claimer blocked on the
    same rows re-checks them (PostgreSQL) and skips what the other one took; on PostgreSQL the
    sub-select also skips rows another claimer has locked rather than waiting for it. A batch
    that failed (``last_error``) is only taken as ``batch_id`` — by the sweep's message — so a
    poisoned batch is retried at the sweep's pace, not by every run.
    """
    table = IngestBatch._meta.db_table
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    stale = now - lease()
    claimable = "processed_at IS NULL AND (claimed_at IS NULL OR claimed_at < %s)"
    sql = (
        f"UPDATE {table} SET claimed_at = %s, fence = fence + 1, "  # noqa: S608
        f"attempts = attempts + 1 WHERE {claimable} AND (id = %s OR id IN "
        f"(SELECT id FROM {table} WHERE {claimable} AND id <> %s AND last_error = '' "
        f"ORDER BY id LIMIT %s"
        f"{skip_locked})) RETURNING id, fence"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [adapt(now), adapt(stale), batch_id, adapt(stale), batch_id, limit - 1])
        return {int(pk): int(fence) for pk, fence in cursor.fetchall()}


def _held(fences: dict[int, int]) -> Q:
    held = Q(pk__in=[])
    for pk, fence in fences.items():
        held |= Q(pk=pk, fence=fence)
    return held


RUN_REFRESH = dt.timedelta(seconds=1)


def process_batch(batch_id: int, now: dt.datetime | None = None) -> int:
    """Claim and process batch ``batch_id``, then — in the same run — claim and process the
    oldest batch still waiting for a worker, one at a time, until none waits or the run has
    handled ``OPSASSURE_ALERT_RUN_BATCHES``. When the batch is already taken, the run starts
    with the oldest waiting one instead. So every free worker process keeps taking work while
    there is a backlog (one claim at a time: no process hoards batches others could do), and
    the messages of batches a run took find nothing to do. Returns how many alerts changed.

    The run shares its lookups (``Run``, reloaded every second); each batch is one
    transaction (a failing batch is rolled back alone and left for the sweep, with its error)
    with a savepoint per alert, and is marked processed in that transaction.
    """
    run: Run | None = None
    changed = 0
    target = batch_id
    for _ in range(run_batches()):
        at = now or timezone.now()
        fences = _claim(target, at, 1) if target else {}
        if not fences:
            fences = _claim(0, at, 2)  # the oldest batch waiting (0 is no batch id)
        if not fences:
            break
        if run is None or at - run.now >= RUN_REFRESH:
            run = Run(at)
        changed += _process_claimed(fences, run, at)
        target = 0
    return changed


def _expand_claimed(batches: list[IngestBatch], fences: dict[int, int]) -> list[IngestBatch]:
    """Write the staged alerts of the claimed batches (and of their integrations' earlier
    batches, in order) as alert rows; returns the batches that are ready to process. A batch
    whose alerts could not be written is released with its error, for the sweep."""
    upto: dict[int, int] = {}
    for batch in batches:
        if batch.expanded_at is None:
            upto[batch.integration_id] = max(batch.pk, upto.get(batch.integration_id, 0))
    failed: set[int] = set()
    for integration_id, last in upto.items():
        integration = next(b.integration for b in batches if b.integration_id == integration_id)
        for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
            try:
                ingest.expand_through(integration, last)
                break
            except Exception as error:
                if is_transient(error) and attempt < TRANSIENT_ATTEMPTS:
                    logger.warning("alert batches up to %s: %s; retrying now", last, error)
                    continue
                logger.exception("alert batches up to %s could not be written", last)
                for batch in batches:
                    if batch.integration_id == integration_id and batch.expanded_at is None:
                        failed.add(batch.pk)
                        IngestBatch.objects.filter(pk=batch.pk, fence=fences[batch.pk]).update(
                            claimed_at=None, last_error=str(error)[:2000]
                        )
                break
    return [batch for batch in batches if batch.pk not in failed]


def _process_claimed(fences: dict[int, int], run: Run, now: dt.datetime) -> int:
    batches = list(
        IngestBatch.objects.filter(_held(fences))
        .select_related("integration")
        .defer("staged")
        .order_by("pk")
    )
    batches = _expand_claimed(batches, fences)
    pending: dict[int, list[int]] = {batch.pk: [] for batch in batches}
    for pk, owner in (
        Alert.objects.filter(batch_id__in=list(pending), pending=True)
        .order_by("pk")
        .values_list("pk", "batch_id")
    ):
        pending[owner].append(pk)
    latest: dict[int, dt.datetime] = {}
    for batch in batches:
        known = latest.get(batch.integration_id)
        latest[batch.integration_id] = max(batch.received_at, known or batch.received_at)
    for integration_id, received_at in latest.items():
        Integration.objects.filter(pk=integration_id).filter(
            Q(last_received_at__isnull=True) | Q(last_received_at__lt=received_at)
        ).update(last_received_at=received_at)
    changed = 0
    for batch in batches:
        fence = fences[batch.pk]
        for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
            try:
                # One transaction per batch, as short as before: the row locks it takes
                # (groups, incidents) are held no longer than one request's work, so two
                # workers cannot deadlock over a run's worth of groups; the batch is marked
                # processed in it.
                with transaction.atomic():
                    changed += _process(batch, pending[batch.pk], run, now)
                    IngestBatch.objects.filter(pk=batch.pk, fence=fence).update(
                        processed_at=timezone.now(), claimed_at=None, last_error=""
                    )
                break
            except Exception as error:
                if is_transient(error) and attempt < TRANSIENT_ATTEMPTS:
                    logger.warning("alert batch %s: %s; retrying it now", batch.pk, error)
                    continue
                logger.exception("alert batch %s failed; the sweep retries it", batch.pk)
                IngestBatch.objects.filter(pk=batch.pk, fence=fence).update(
                    claimed_at=None, last_error=str(error)[:2000]
                )
                break
    return changed


# A batch that meets a transient database error is rolled back and tried again at once; if
# that fails too it is released for the sweep (every minute) with the error recorded.
TRANSIENT_ATTEMPTS = 2
# PostgreSQL: deadlock_detected, serialization_failure, lock_not_available.
TRANSIENT_SQLSTATES = {"40P01", "40001", "55P03"}


def is_transient(error: BaseException) -> bool:
    """A database error worth retrying unchanged (a deadlock, a serialization failure, a
    lock timeout, SQLite's "database is locked") — not a fault of the data."""
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    return "database is locked" in str(error)


def _process(batch: IngestBatch, alert_ids: list[int], run: Run, now: dt.datetime) -> int:
    """One batch of a run: its alerts (a savepoint each), then each touched group recounted
    once, then the batch's group actions (events API acknowledgements)."""
    processor = Processor(batch, now, run)
    changed = sum(1 for pk in alert_ids if processor.handle(pk))
    for group_id in sorted(processor.touched):
        refresh_group(AlertGroup(pk=group_id), now, run.rules)
    for action in batch.actions:
        if action.get("action") == "acknowledge":
            _acknowledge_fingerprint(batch.integration, action.get("fingerprint", ""))
    return changed


def _acknowledge_fingerprint(integration: Integration, fingerprint: str) -> None:
    from opsassure.alerting import services

    group_id = (
        Alert.objects.filter(integration=integration, fingerprint=fingerprint, status="firing")
        .values_list("group_id", flat=True)
        .first()
    )
    if group_id is not None:
        services.acknowledge_group_id(group_id, user=None, via="events_v2")


def sweep(now: dt.datetime | None = None) -> int:
    """Re-drive stuck batches and alerts, release ended suppressions, re-check flapping."""
    from opsassure.alerting.tasks import alert_process_batch

    now = now or timezone.now()
    claim_lease = lease()
    count = 0
    stuck = (
        IngestBatch.objects.filter(processed_at__isnull=True, received_at__lt=now - REDRIVE_AFTER)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_lease))
        .order_by("received_at")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    for batch_id in stuck:
        alert_process_batch.apply_async(args=(batch_id,))
        count += 1
    count += recheck_suppressions(now)
    count += _settle_flapping(now)
    RateWindow.objects.filter(window_start__lt=now - dt.timedelta(hours=1)).delete()
    return count


def recheck_suppressions(now: dt.datetime | None = None) -> int:
    """Bring firing alerts in line with the silences and windows active now: mute the ones a
    silence or window created (or begun) after they arrived covers, as Alertmanager does at
    once, and release the ones whose silence ended or was expired. Returns how many changed.

    Runs in the one-minute sweep and right after a silence or window is saved
    (``alert_recheck_suppressions``). Inhibition is decided when an alert is processed."""
    now = now or timezone.now()
    context = Context.load(now)
    return _apply_suppressions(now, context) + _release_suppressed(now, context)


def _apply_suppressions(now: dt.datetime, context: Context) -> int:
    if not context.silences and not context.windows:
        return 0
    muting = Context(now=now, silences=context.silences, windows=context.windows)
    applied = 0
    firing = (
        Alert.objects.filter(status="firing", suppressed=False, pending=False)
        .only("pk", "labels", "customer_id", "ci_id", "group_id", "summary")
        .order_by("pk")
    )
    for alert in firing.iterator(chunk_size=2000):
        found = muting.suppressor(alert)
        if found and _set_suppression(alert, found, now):
            applied += 1
    return applied


def _release_suppressed(now: dt.datetime, context: Context) -> int:
    released = 0
    suppressed = Alert.objects.filter(status="firing", suppressed=True, pending=False).order_by(
        "pk"
    )[:SWEEP_LIMIT]
    for alert in suppressed:
        if not context.suppressor(alert) and _set_suppression(alert, {}, now):
            released += 1
    return released


def _set_suppression(alert: Alert, found: dict[str, Any], now: dt.datetime) -> bool:
    """Mute (``found``: what suppresses it) or release (``{}``) a processed firing alert, with
    its event and its group's new state; False if another run changed it first."""
    with transaction.atomic():
        updated = Alert.objects.filter(pk=alert.pk, suppressed=not found).update(
            suppressed=bool(found), suppressed_by=found
        )
        if not updated:
            return False
        group = alert.group
        event(
            AlertEvent.Kind.SUPPRESSED if found else AlertEvent.Kind.UNSUPPRESSED,
            group=group,
            alert=alert,
            at=now,
            message=alert.summary,
            data=found,
        )
        if group is not None:
            refresh_group(group, now)
    return True


def _settle_flapping(now: dt.datetime) -> int:
    """A flapping group whose alerts stopped changing for a whole window is routed normally."""
    settled = 0
    for group in (
        AlertGroup.objects.filter(is_open=True, flapping=True)
        .select_related("integration")
        .order_by("pk")[:SWEEP_LIMIT]
    ):
        window = dt.timedelta(minutes=group.integration.flap_window_minutes)
        fingerprints = group.alerts.values_list("fingerprint", flat=True)
        recent = Alert.objects.filter(
            integration_id=group.integration_id, fingerprint__in=list(fingerprints)
        ).filter(Q(starts_at__gte=now - window) | Q(ends_at__gte=now - window))
        if recent.count() > 1:
            continue
        with transaction.atomic():
            AlertGroup.objects.filter(pk=group.pk).update(flapping=False)
            refresh_group(group, now)
            settled += 1
    return settled


__all__ = ["paging", "process_batch", "recheck_suppressions", "refresh_group", "sweep"]
