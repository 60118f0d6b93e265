"""Routing: which rule an alert group falls under, and what that does.

Rules are ordered (``position``, then id); the first enabled rule that matches wins — for the
group's integration or every integration, for the group's customer or every customer, with
all its label matchers, one of its severities (if any) and its CI (if set). Without a match
the integration's ``default_action`` applies. Actions: open an incident (priority from the
severity), attach to an open monitoring incident of the same CI, notify only, or drop — the
decision is always recorded on the group's timeline.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from opsassure.alerting import paging
from opsassure.alerting.models import (
    Alert,
    AlertEvent,
    AlertGroup,
    DefaultAction,
    RoutingAction,
    RoutingRule,
)
from opsassure.catalog.models import Service

logger = logging.getLogger(__name__)


def service_for(alert: Alert) -> Service | None:
    """The catalogue service named by the ``service`` label (its code), of the alert's customer."""
    code = alert.labels.get("service", "")
    if not code or alert.customer_id is None:
        return None
    return Service.objects.filter(customer_id=alert.customer_id, code=code).first()


def matches(rule: RoutingRule, group: AlertGroup, labels: dict[str, str], severity: str) -> bool:
    from opsassure.alerting import matchers

    if rule.integration_id is not None and rule.integration_id != group.integration_id:
        return False
    if rule.customer_id is not None and rule.customer_id != group.customer_id:
        return False
    if rule.severities and severity not in rule.severities:
        return False
    if rule.ci_id is not None and rule.ci_id != group.ci_id:
        return False
    try:
        return matchers.match_all(rule.matchers, labels)
    except matchers.MatcherError:
        return False


def enabled_rules() -> list[RoutingRule]:
    """Every enabled rule in evaluation order, with what routing reads from them."""
    return list(
        RoutingRule.objects.filter(enabled=True)
        .select_related("destination", "destination__customer", "escalation_policy")
        .order_by("position", "pk")
    )


def rule_for(group: AlertGroup, rules: list[RoutingRule] | None = None) -> RoutingRule | None:
    """The first matching rule (``matches`` checks the rule's integration and customer);
    ``rules`` (from ``enabled_rules``) saves the query when a worker routes many groups."""
    first = group.alerts.filter(status="firing", suppressed=False).order_by("pk").first()
    labels = first.labels if first is not None else group.labels
    candidates = rules if rules is not None else enabled_rules()
    for rule in candidates:
        if matches(rule, group, labels, group.severity):
            return rule
    return None


def route(group: AlertGroup, now: dt.datetime, rules: list[RoutingRule] | None = None) -> None:
    """Decide and carry out the group's action (once per group)."""
    from opsassure.alerting.processing import event

    rule = rule_for(group, rules)
    action = rule.action if rule is not None else group.integration.default_action
    if group.labels.get("opsassure_test") == "true":  # the "send test alert" button
        rule, action = None, RoutingAction.NOTIFY
    group.routing_rule = rule
    group.action = action
    group.save(update_fields=["routing_rule", "action", "updated_at"])
    event(
        AlertEvent.Kind.ROUTED,
        group=group,
        at=now,
        message=rule.name if rule is not None else "default",
        data={"rule": rule.pk if rule else None, "action": action},
    )
    if action == RoutingAction.DROP:
        event(
            AlertEvent.Kind.DROPPED,
            group=group,
            at=now,
            message=rule.name if rule is not None else "",
        )
        return
    incident = None
    if action in (RoutingAction.INCIDENT, RoutingAction.ATTACH):
        incident = open_incident(group, rule, now, attach=action == RoutingAction.ATTACH)
    if action == DefaultAction.RECORD:
        return
    if paging.notify_group(group, rule):
        event(
            AlertEvent.Kind.NOTIFIED,
            group=group,
            at=now,
            message=str(rule.destination) if rule and rule.destination else "",
        )
    policy = rule.escalation_policy if rule is not None else None
    if policy is not None:
        run = paging.start(group, incident, policy)
        if run is not None:
            event(
                AlertEvent.Kind.PAGED,
                group=group,
                at=now,
                message=str(policy),
                data={"run": getattr(run, "pk", None)},
            )


def _team_for(group: AlertGroup, rule: RoutingRule | None) -> Any:
    team = rule.team if rule is not None and rule.team_id else group.owner_team
    if team is None or group.customer_id is None:
        return None
    if not team.is_active or not team.customers.filter(pk=group.customer_id).exists():
        return None
    return team


def open_incident(
    group: AlertGroup, rule: RoutingRule | None, now: dt.datetime, *, attach: bool
) -> Any:
    """Open (or with ``attach``, find) the group's incident; None with a recorded reason."""
    from opsassure.alerting.processing import event
    from opsassure.servicedesk import services as sd
    from opsassure.servicedesk.errors import ServiceDeskError
    from opsassure.servicedesk.models import OPEN_STATUSES, Channel, Ticket

    if group.incident_id is not None:
        return group.incident
    if group.customer is None:
        event(
            AlertEvent.Kind.ERROR,
            group=group,
            at=now,
            message="No customer: the integration is provider-wide and no CI matched.",
        )
        return None
    if attach and group.ci_id is not None:
        existing = (
            Ticket.objects.filter(
                customer=group.customer,
                channel=Channel.MONITORING,
                status__in=OPEN_STATUSES,
                cis=group.ci_id,
            )
            .order_by("-created_at", "-pk")
            .first()
        )
        if existing is not None:
            group.incident = existing
            group.save(update_fields=["incident", "updated_at"])
            event(AlertEvent.Kind.INCIDENT_ATTACHED, group=group, at=now, message=existing.number)
            return existing
    priority_map = rule.priority_map if rule is not None else {}
    defaults = {"critical": 1, "high": 2, "warning": 3, "info": 4}
    priority = int(priority_map.get(group.severity) or defaults.get(group.severity, 3))
    ci = group.ci if group.ci is not None and group.ci.customer_id == group.customer_id else None
    firing = list(
        group.alerts.filter(status="firing").order_by("pk").values_list("summary", flat=True)[:10]
    )
    description = "\n".join(f"- {line}" for line in firing if line)
    kwargs: dict[str, Any] = {
        "actor": None,
        "customer": group.customer,
        "title": f"[{group.severity}] {group.title}"[:300],
        "description": description,
        "channel": Channel.MONITORING,
        "priority": priority,
        "cis": [ci] if ci is not None else [],
        "service": group.service,
        "team": _team_for(group, rule),
    }
    try:
        ticket = sd.create_ticket(**kwargs)
    except ServiceDeskError as error:
        event(AlertEvent.Kind.ERROR, group=group, at=now, message=str(error))
        return None
    group.incident = ticket
    group.save(update_fields=["incident", "updated_at"])
    event(
        AlertEvent.Kind.INCIDENT_OPENED,
        group=group,
        at=now,
        message=ticket.number,
        data={"ticket": ticket.pk, "priority": priority},
    )
    return ticket


def on_group_resolved(group: AlertGroup, now: dt.datetime) -> None:
    """All alerts resolved: stop paging, tell the destination, update the incident."""
    from opsassure.alerting.processing import event
    from opsassure.servicedesk import services as sd
    from opsassure.servicedesk.errors import ServiceDeskError
    from opsassure.servicedesk.models import OPEN_STATUSES, ResolutionCode

    paging.stop(group)
    rule = group.routing_rule
    if group.action and group.action != RoutingAction.DROP:
        paging.notify_group(group, rule, resolved=True)
    incident = group.incident
    if incident is None or incident.status not in OPEN_STATUSES:
        return
    # Another open group may still feed the same incident (attach): keep it open then.
    if AlertGroup.objects.filter(incident=incident, is_open=True).exclude(pk=group.pk).exists():
        return
    auto = rule.auto_resolve if rule is not None else True
    note = f"All alerts of group “{group.title}” resolved at {now:%Y-%m-%d %H:%M:%S} UTC."
    try:
        if auto:
            sd.transition(
                incident,
                actor=None,
                to="resolved",
                resolution_code=ResolutionCode.SOLVED,
                resolution_note=note + " (auto-resolved by alerting)",
            )
            event(AlertEvent.Kind.INCIDENT_RESOLVED, group=group, at=now, message=incident.number)
        else:
            sd.add_reply(incident, actor=None, body=note, public=False)
    except ServiceDeskError as error:
        event(AlertEvent.Kind.ERROR, group=group, at=now, message=str(error))
