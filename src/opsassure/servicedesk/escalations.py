"""What happens when an SLA clock reaches a warning threshold or its deadline.

Called by ``sla.sweep`` after it claimed the clock (inside the claim's transaction), once per
trigger. The ``Escalation`` row (unique per clock and trigger) is written first: if it
exists already, nothing else happens — exactly once, even if two sweeps got this far.

Actions per trigger (the timeline records every one):

- warning 1: notify the assignee (the team lead if nobody is assigned) — functional;
- warning 2: notify assignee and team lead; functional escalation to the next support level
  (``OPSASSURE_SLA_FUNCTIONAL_ESCALATION``, SLA clocks only) — functional;
- breach: notify assignee, team lead and the service managers — hierarchical (management);
  an SLA breach marks the ticket and, with ``OPSASSURE_SLA_BREACH_RAISES_PRIORITY``, raises
  its priority one step (the clocks are re-targeted).

Notifications are deliberately small: an internal timeline entry plus one ``OutboundMail``
row per person with an e-mail address (the mail worker sends it). No notification centre.
"""

from __future__ import annotations

import datetime as dt
from email.utils import make_msgid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from opsassure.catalog.models import SlaMetric
from opsassure.core.models import User
from opsassure.core.roles import SERVICE_MANAGER
from opsassure.servicedesk import conf, sla, timeline
from opsassure.servicedesk.models import Escalation, OutboundMail, SlaClock, Ticket, TicketEvent

MAX_MANAGERS = 10


def _metric_label(metric: str) -> str:
    return str(SlaMetric(metric).label)


def _trigger_text(clock: SlaClock, trigger: str) -> str:
    values = {"metric": _metric_label(clock.metric), "team": str(clock.team or "")}
    if clock.team_id is not None:
        texts = {
            sla.WARNING_1: _("OLA %(metric)s of %(team)s: first warning"),
            sla.WARNING_2: _("OLA %(metric)s of %(team)s: second warning"),
            sla.BREACH: _("OLA %(metric)s of %(team)s breached"),
        }
    else:
        texts = {
            sla.WARNING_1: _("SLA %(metric)s: first warning"),
            sla.WARNING_2: _("SLA %(metric)s: second warning"),
            sla.BREACH: _("SLA %(metric)s breached"),
        }
    return texts[trigger] % values


def _recipients(ticket: Ticket, trigger: str) -> list[tuple[str, User]]:
    """(role, user) pairs to notify, without duplicates, active users only."""
    people: list[tuple[str, User | None]] = []
    lead = ticket.team.lead if ticket.team is not None else None
    if trigger == sla.WARNING_1:
        people.append(("assignee", ticket.assignee) if ticket.assignee else ("team_lead", lead))
    else:
        people += [("assignee", ticket.assignee), ("team_lead", lead)]
    if trigger == sla.BREACH:
        managers = (
            User.objects.filter(groups__name=SERVICE_MANAGER, is_active=True, customer=None)
            .order_by("pk")
            .distinct()[:MAX_MANAGERS]
        )
        people += [("service_manager", manager) for manager in managers]
    seen: set[int] = set()
    result = []
    for role, user in people:
        if user is None or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        result.append((role, user))
    return result


def _queue_mail(ticket: Ticket, user: User, subject: str, body: str) -> OutboundMail | None:
    if not user.email:
        return None
    language = user.language or "zh-hans"
    with translation.override(language):
        text = f"{ticket.number} {ticket.title}\n\n{body}\n"
        return OutboundMail.objects.create(
            ticket=ticket,
            to=[user.email],
            subject=f"[{ticket.number}] {subject}"[:998],
            body=text,
            message_id=make_msgid(domain=conf.mail_domain()),
            in_reply_to=ticket.mail_thread_id,
            references=ticket.mail_thread_id,
            language=language,
        )


def _notify(
    ticket: Ticket, clock: SlaClock, trigger: str, actions: list[dict[str, Any]]
) -> list[int]:
    """Internal note-like entry + one outbound mail per recipient; returns the mail ids."""
    mail_ids = []
    for role, user in _recipients(ticket, trigger):
        with translation.override(user.language or "zh-hans"):
            subject = _trigger_text(clock, trigger)
            due = clock.due_at.isoformat() if clock.due_at else ""
            body = _("Due at %(due)s (UTC). Please act on the ticket.") % {"due": due}
        mail = _queue_mail(ticket, user, subject, body)
        actions.append({"action": "notify", "role": role, "user": user.pk})
        if mail is not None:
            mail_ids.append(mail.pk)
    return mail_ids


def _raise_priority(ticket: Ticket, now: dt.datetime, actions: list[dict[str, Any]]) -> None:
    from opsassure.servicedesk import services  # services → sla → (sweep) → here

    if ticket.priority <= 1:
        return
    old = ticket.priority
    services.update_ticket(ticket, actor=None, priority=old - 1, now=now)
    actions.append({"action": "raise_priority", "from": old, "to": old - 1})


def fire(clock: SlaClock, trigger: str, *, now: dt.datetime) -> Escalation | None:
    """Run ``trigger``'s actions for ``clock`` once; None if it had fired already."""
    from opsassure.servicedesk import services

    ticket = Ticket.objects.select_related("team", "team__lead", "assignee").get(pk=clock.ticket_id)
    is_sla = clock.team_id is None
    kind = Escalation.Kind.HIERARCHICAL if trigger == sla.BREACH else Escalation.Kind.FUNCTIONAL
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                ticket=ticket, clock=clock, kind=kind, trigger=trigger, actions=[]
            )
    except IntegrityError:
        return None
    actions: list[dict[str, Any]] = []
    summary = _trigger_text(clock, trigger)
    timeline.record(
        ticket,
        TicketEvent.Kind.SLA,
        at=now,
        public=False,
        body=summary,
        data={
            "clock": clock.pk,
            "metric": clock.metric,
            "team": clock.team_id,
            "trigger": trigger,
            "due_at": clock.due_at.isoformat() if clock.due_at else None,
        },
    )
    if trigger == sla.BREACH and is_sla:
        Ticket.objects.filter(pk=ticket.pk, sla_breached=False).update(sla_breached=True)
        ticket.sla_breached = True
    if trigger == sla.WARNING_2 and is_sla and conf.functional_escalation():
        old_level = ticket.support_level
        level = services.bump_support_level(ticket)
        if level is not None:
            actions.append({"action": "support_level", "from": old_level, "to": level})
    mail_ids = _notify(ticket, clock, trigger, actions)
    if trigger == sla.BREACH and is_sla and conf.breach_raises_priority():
        _raise_priority(ticket, now, actions)
    if kind == Escalation.Kind.HIERARCHICAL:
        body = _("Hierarchical escalation to management: %(what)s") % {"what": summary}
    else:
        body = _("Functional escalation: %(what)s") % {"what": summary}
    timeline.record(
        ticket,
        TicketEvent.Kind.ESCALATION,
        at=now,
        public=False,
        body=body,
        data={
            "escalation": escalation.pk,
            "kind": kind,
            "trigger": trigger,
            "actions": actions,
            "mails": mail_ids,
        },
    )
    changes: dict[str, Any] = {"actions": actions}
    if abs((escalation.created_at - now).total_seconds()) > timeline.BACKDATE_SECONDS:
        changes["created_at"] = now  # a sweep run for a past instant (history, demo data)
    Escalation.objects.filter(pk=escalation.pk).update(**changes)
    for name, value in changes.items():
        setattr(escalation, name, value)
    return escalation
