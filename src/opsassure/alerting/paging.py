"""Every call from alerting into notify and oncall, in one small module.

- ``notify_group``: a routing rule's destination hears about a new (or resolved) group;
- ``start``: a routing rule that names an escalation policy pages through
  ``oncall.services.start_escalation(source=group, ticket=incident, …)``;
- ``stop``: the group resolved → the active escalation run is resolved;
- ``connect_signals``: oncall's ``escalation_acknowledged`` / ``escalation_resolved`` update
  the group (acknowledged), so an acknowledgement by phone link shows in the alert list.

Flapping groups are held: nothing is sent while ``group.flapping`` is set.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings

from opsassure.oncall import services as oncall
from opsassure.oncall import signals
from opsassure.oncall.models import EscalationPolicy, EscalationRun

if TYPE_CHECKING:
    from opsassure.alerting.models import AlertGroup, RoutingRule
    from opsassure.core.models import User
    from opsassure.servicedesk.models import Ticket

logger = logging.getLogger(__name__)
SOURCE_TYPE = "alerting.alertgroup"


def _context(group: AlertGroup, *, resolved: bool = False) -> dict[str, Any]:
    summaries = list(
        group.alerts.filter(status="firing").order_by("pk").values_list("summary", flat=True)[:5]
    )
    base = str(getattr(settings, "OPSASSURE_BASE_URL", "") or "").rstrip("/")
    return {
        "title": group.title,
        "severity": group.severity,
        "firing": group.firing_count,
        "customer": str(group.customer) if group.customer_id else "",
        "ci": str(group.ci) if group.ci_id else "",
        "incident": group.incident.number if group.incident_id and group.incident else "",
        "summaries": [s for s in summaries if s],
        "url": f"{base}{group.get_absolute_url()}",
        "resolved": resolved,
    }


def notify_group(group: AlertGroup, rule: RoutingRule | None, *, resolved: bool = False) -> int:
    """Queue the rule's destination message about ``group``; returns how many were queued."""
    if group.flapping or rule is None or rule.destination_id is None:
        return 0
    from opsassure.notify import services as notify

    destination = rule.destination
    if destination is None:
        return 0
    suffix = "resolved" if resolved else "open"
    notify.notify_destination(
        destination,
        severity=group.severity,
        dedup_key=f"alertgroup:{group.pk}:{suffix}:{destination.pk}",
        template="alerting_group",
        context=_context(group, resolved=resolved),
        source=group,
    )
    return 1


def start(
    group: AlertGroup, incident: Ticket | None, policy: EscalationPolicy | None
) -> EscalationRun | None:
    """Start paging ``policy`` for ``group`` (idempotent per group in oncall); None if held."""
    if group.flapping or policy is None:
        return None
    run = oncall.start_escalation(
        policy=policy,
        customer=group.customer,
        title=group.title,
        severity=group.severity,
        ticket=incident,
        source=group,
        context=_context(group),
    )
    if group.escalation_id != run.pk:
        type(group).objects.filter(pk=group.pk).update(escalation=run)
        group.escalation = run
    return run


def stop(group: AlertGroup) -> None:
    """Resolve the group's active escalation run, if any (all its alerts resolved)."""
    runs = EscalationRun.objects.filter(
        source_type=SOURCE_TYPE,
        source_id=str(group.pk),
        state__in=(*EscalationRun.OPEN_STATES, EscalationRun.State.EXHAUSTED),
    ).order_by("pk")
    for run in runs:  # an exhausted run (nobody answered) is closed as well
        oncall.resolve(run, user=None, via="system")


def open_runs(group: AlertGroup) -> list[EscalationRun]:
    return list(
        EscalationRun.objects.filter(
            source_type=SOURCE_TYPE, source_id=str(group.pk), state__in=EscalationRun.OPEN_STATES
        ).order_by("pk")
    )


def acknowledge(group: AlertGroup, user: User, via: str) -> None:
    """Acknowledge the group's active escalation run (someone took it from the alert side)."""
    for run in open_runs(group):
        if run.state == EscalationRun.State.ACTIVE:
            oncall.acknowledge(run, user=user, via=via)


def _on_escalation(sender: Any, run: Any = None, user: Any = None, **kwargs: Any) -> None:
    if run is None or getattr(run, "source_type", "") != SOURCE_TYPE:
        return
    from opsassure.alerting import services

    try:
        group_id = int(run.source_id)
    except (TypeError, ValueError):
        return
    services.acknowledge_group_id(group_id, user=user, via="oncall")


def connect_signals() -> None:
    for signal in (signals.escalation_acknowledged, signals.escalation_resolved):
        signal.connect(_on_escalation, dispatch_uid=f"alerting-{id(signal)}")
