"""Probe and check health, server side: alerts on check state transitions, probe heartbeats,
and the sweep that notices silent probes and checks that are not being executed.

All alerts go through ``monitoring.alerts`` (the alerting pipeline's ingest path); the firing
ones are read back from the alert table, so the sweep needs no state of its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from opsassure.monitoring import alerts
from opsassure.monitoring.models import Agent, CheckState, Monitor, Probe, Severity

STALE_GRACE_SECONDS = 30
MAX_NEW_STALE_ALERTS_PER_SWEEP = 1000


# --- alerts ---------------------------------------------------------------------------------


def check_labels(monitor: Monitor, alertname: str) -> dict[str, str]:
    labels = {str(key): str(value) for key, value in (monitor.labels or {}).items()}
    labels.update(
        alertname=alertname,
        check=monitor.name,
        check_id=str(monitor.pk),
        check_kind=monitor.kind,
        target=monitor.target[:200],
    )
    if monitor.ci_id is not None:
        labels["opsassure_ci_id"] = str(monitor.ci_id)
    return labels


def down_fingerprint(monitor_id: int) -> str:
    return f"mon-check-{monitor_id}"


def degraded_fingerprint(monitor_id: int) -> str:
    return f"mon-check-{monitor_id}-degraded"


def stale_fingerprint(monitor_id: int) -> str:
    return f"mon-check-{monitor_id}-stale"


def probe_fingerprint(probe_id: int) -> str:
    return f"mon-probe-{probe_id}"


def alert_transition(monitor: Monitor, old: str) -> None:
    new = monitor.state
    customer = monitor.customer_id
    down_labels = check_labels(monitor, "CheckDown")
    degraded_labels = check_labels(monitor, "CheckDegraded")
    if old == CheckState.DOWN and new != CheckState.DOWN:
        alerts.resolve(
            customer,
            fingerprint=down_fingerprint(monitor.pk),
            labels=down_labels,
            severity=monitor.severity,
        )
    if old == CheckState.DEGRADED and new != CheckState.DEGRADED:
        alerts.resolve(
            customer,
            fingerprint=degraded_fingerprint(monitor.pk),
            labels=degraded_labels,
            severity=Severity.WARNING,
        )
    if new == CheckState.DOWN:
        alerts.fire(
            customer,
            fingerprint=down_fingerprint(monitor.pk),
            labels=down_labels,
            annotations={
                "summary": _("Check %(name)s is down") % {"name": monitor.name},
                "description": monitor.last_message,
            },
            severity=monitor.severity,
            starts_at=monitor.state_since,
        )
    elif new == CheckState.DEGRADED:
        alerts.fire(
            customer,
            fingerprint=degraded_fingerprint(monitor.pk),
            labels=degraded_labels,
            annotations={
                "summary": _("Check %(name)s is degraded") % {"name": monitor.name},
                "description": monitor.last_message,
            },
            severity=Severity.WARNING,
            starts_at=monitor.state_since,
        )


# --- heartbeats and staleness ---------------------------------------------------------------

HEARTBEAT_FIELDS = (
    "version",
    "checks",
    "executed",
    "skipped",
    "lag_p50_ms",
    "lag_p99_ms",
    "buffered",
    "spooled",
    "dropped",
    "running",
)


def clean_heartbeat(data: dict[str, Any]) -> dict[str, Any]:
    """Only the known fields, only numbers or short strings."""
    clean: dict[str, Any] = {}
    for key in HEARTBEAT_FIELDS:
        value = data.get(key)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            clean[key] = value
        elif isinstance(value, str):
            clean[key] = value[:64]
    return clean


def _firing(prefix: str) -> dict[str, int | None]:
    """Firing monitoring alerts whose fingerprint starts with ``prefix`` → customer id."""
    from opsassure.alerting import ingest
    from opsassure.alerting.models import Alert, AlertStatus, IntegrationKind

    # Our own alerts accepted but not yet written by an alerting worker count too.
    ingest.expand_waiting(kind=IntegrationKind.MONITORING)
    return dict(
        Alert.objects.filter(
            integration__kind=IntegrationKind.MONITORING,
            status=AlertStatus.FIRING,
            fingerprint__startswith=prefix,
        ).values_list("fingerprint", "integration__customer_id")
    )


def _probe_labels(probe: Probe) -> dict[str, str]:
    return {
        "alertname": "ProbeDown",
        "probe": probe.name,
        "probe_id": str(probe.pk),
        "zone": probe.zone,
    }


def record_heartbeat(probe: Probe, data: dict[str, Any], *, now: dt.datetime | None = None) -> None:
    """Store what the probe reports; a probe that was reported down is back."""
    now = now or timezone.now()
    with transaction.atomic():
        Probe.objects.filter(pk=probe.pk).update(
            last_heartbeat_at=now, heartbeat=clean_heartbeat(data)
        )
        fingerprint = probe_fingerprint(probe.pk)
        if fingerprint in _firing(fingerprint):
            alerts.resolve(
                probe.customer_id,
                fingerprint=fingerprint,
                labels=_probe_labels(probe),
                severity=Severity.CRITICAL,
                ends_at=now,
            )


def stale_after(interval: int, timeout: float, retries: int) -> float:
    """Seconds without a result before a check counts as not executed: two intervals, plus
    its own run time and a grace for the probe's poll and send cycles."""
    return 2 * interval + timeout * (retries + 1) + STALE_GRACE_SECONDS


def sweep_stale(*, now: dt.datetime | None = None) -> int:
    """Probes silent past their heartbeat timeout → ProbeDown; enabled checks without a result
    for two intervals → CheckNotExecuted; both resolve when things are back (or when the probe
    or check is disabled). Returns the number of alerts fired or resolved."""
    now = now or timezone.now()
    return _sweep_probes(now) + _sweep_checks(now) + _sweep_agents(now)


def agent_fingerprint(agent_id: int) -> str:
    return f"mon-agent-{agent_id}"


def agent_silent_after(interval: int) -> float:
    """Seconds without a push before an agent counts as silent: three of its intervals (it
    spools and retries while the server is away) plus the sweep's grace."""
    return 3 * max(interval, 1) + STALE_GRACE_SECONDS


def _agent_labels(agent: Agent) -> dict[str, str]:
    labels = {"alertname": "AgentSilent", "agent": agent.hostname, "agent_id": str(agent.pk)}
    if agent.ci_id:
        labels["opsassure_ci_id"] = str(agent.ci_id)
    return labels


def _sweep_agents(now: dt.datetime) -> int:
    """Agents whose token is live and that stopped pushing → AgentSilent; resolved when they
    push again, or when their token is revoked (a host taken out of service on purpose)."""
    firing = _firing("mon-agent-")
    changed = 0
    agents = Agent.objects.filter(last_seen_at__isnull=False).select_related("token")
    for agent in agents.order_by("pk").iterator(chunk_size=2000):
        fingerprint = agent_fingerprint(agent.pk)
        was_firing = fingerprint in firing
        firing.pop(fingerprint, None)
        assert agent.last_seen_at is not None
        silent = (now - agent.last_seen_at).total_seconds()
        stale = agent.token.revoked_at is None and silent > agent_silent_after(
            agent.interval_seconds
        )
        if stale and not was_firing:
            if changed >= MAX_NEW_STALE_ALERTS_PER_SWEEP:
                continue
            with transaction.atomic():
                alerts.fire(
                    agent.customer_id,
                    fingerprint=fingerprint,
                    labels=_agent_labels(agent),
                    annotations={
                        "summary": _("Agent on %(host)s stopped reporting")
                        % {"host": agent.hostname},
                        "description": _("No metrics for %(seconds)d seconds.")
                        % {"seconds": int(silent)},
                    },
                    severity=Severity.CRITICAL,
                )
            changed += 1
        elif not stale and was_firing:
            with transaction.atomic():
                alerts.resolve(
                    agent.customer_id,
                    fingerprint=fingerprint,
                    labels=_agent_labels(agent),
                    severity=Severity.CRITICAL,
                )
            changed += 1
    for fingerprint, customer in firing.items():  # the agent was deleted
        with transaction.atomic():
            alerts.resolve(
                customer,
                fingerprint=fingerprint,
                labels={"alertname": "AgentSilent", "agent_id": fingerprint.rsplit("-", 1)[1]},
                severity=Severity.CRITICAL,
            )
        changed += 1
    return changed


def _sweep_probes(now: dt.datetime) -> int:
    firing = _firing("mon-probe-")
    changed = 0
    for probe in Probe.objects.filter(last_heartbeat_at__isnull=False).order_by("pk"):
        fingerprint = probe_fingerprint(probe.pk)
        active = probe.enabled and probe.revoked_at is None
        assert probe.last_heartbeat_at is not None
        silent = (now - probe.last_heartbeat_at).total_seconds()
        stale = active and silent > probe.heartbeat_timeout_seconds
        with transaction.atomic():
            if stale and fingerprint not in firing:
                alerts.fire(
                    probe.customer_id,
                    fingerprint=fingerprint,
                    labels=_probe_labels(probe),
                    annotations={
                        "summary": _("Probe %(name)s stopped reporting") % {"name": probe.name},
                        "description": _("No heartbeat for %(seconds)d seconds.")
                        % {"seconds": int(silent)},
                    },
                    severity=Severity.CRITICAL,
                )
                changed += 1
            elif not stale and fingerprint in firing:
                alerts.resolve(
                    probe.customer_id,
                    fingerprint=fingerprint,
                    labels=_probe_labels(probe),
                    severity=Severity.CRITICAL,
                )
                changed += 1
    return changed


def _sweep_checks(now: dt.datetime) -> int:
    firing = {
        fingerprint: customer
        for fingerprint, customer in _firing("mon-check-").items()
        if fingerprint.endswith("-stale")
    }
    shortest = settings.MONITORING_MIN_INTERVAL_SECONDS
    coarse = now - dt.timedelta(seconds=2 * shortest + STALE_GRACE_SECONDS)
    candidates = Monitor.objects.filter(enabled=True).filter(
        Q(last_result_at__isnull=True) | Q(last_result_at__lt=coarse)
    )
    stale: list[Monitor] = []
    for monitor in candidates.order_by("pk").iterator(chunk_size=2000):
        # Never stale for longer than it has existed: a check created with older results
        # (the demo's history, an import) gets its full grace from its creation.
        since = max(monitor.last_result_at or monitor.created_at, monitor.created_at)
        limit = stale_after(monitor.interval_seconds, monitor.timeout_seconds, monitor.retries)
        if (now - since).total_seconds() > limit:
            stale.append(monitor)
    stale_ids = {monitor.pk for monitor in stale}
    changed = 0
    for monitor in stale:
        if changed >= MAX_NEW_STALE_ALERTS_PER_SWEEP:
            break
        if stale_fingerprint(monitor.pk) in firing:
            continue
        since = monitor.last_result_at
        with transaction.atomic():
            alerts.fire(
                monitor.customer_id,
                fingerprint=stale_fingerprint(monitor.pk),
                labels=check_labels(monitor, "CheckNotExecuted"),
                annotations={
                    "summary": _("Check %(name)s is not being executed") % {"name": monitor.name},
                    "description": (
                        _("Last result at %(time)s.") % {"time": since.isoformat()}
                        if since
                        else _("No result yet.")
                    ),
                },
                severity=Severity.WARNING,
            )
        changed += 1
    for fingerprint, customer in firing.items():
        monitor_id = int(fingerprint.split("-")[2])
        if monitor_id in stale_ids:
            continue
        with transaction.atomic():
            alerts.resolve(
                customer,
                fingerprint=fingerprint,
                labels={"alertname": "CheckNotExecuted", "check_id": str(monitor_id)},
                severity=Severity.WARNING,
            )
        changed += 1
    return changed
