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
  its priority one step (the clocks are re-targeted), and with
  ``OPSASSURE_SLA_BREACH_REASSIGNS_TO_LEAD`` reassigns it to the team's lead.

Notifications are deliberately small: an internal timeline entry plus one ``OutboundMail``
row per person with an e-mail address (the mail worker sends it). No notification centre.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from email.utils import make_msgid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from opsassure.catalog.models import SlaMetric
from opsassure.core.models import User
from opsassure.core.roles import SERVICE_MANAGER
from opsassure.servicedesk import bulk, conf, sla, timeline
from opsassure.servicedesk.errors import ServiceDeskError
from opsassure.servicedesk.models import Escalation, OutboundMail, SlaClock, Ticket, TicketEvent
from opsassure.servicedesk.signals import send_on_commit

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


class _Batch:
    """Rows of one sweep batch, written in bulk in the order the single path wrote them.

    Timeline entries and mails wait here; ``flush`` writes them (a per-ticket service call
    that writes its own entries — raising the priority — flushes first, so every ticket's
    timeline keeps its order).
    """

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.events: list[TicketEvent] = []
        self.mails: list[OutboundMail] = []
        self.breached: set[int] = set()  # tickets whose SLA breached
        # Escalation entries list their mails' ids, known once the mails are written.
        self.mail_lists: list[tuple[TicketEvent, list[OutboundMail]]] = []
        self._managers: list[User] | None = None

    def managers(self) -> list[User]:
        if self._managers is None:
            self._managers = list(
                User.objects.filter(groups__name=SERVICE_MANAGER, is_active=True, customer=None)
                .order_by("pk")
                .distinct()[:MAX_MANAGERS]
            )
        return self._managers

    def event(self, ticket: Ticket, kind: str, body: str, data: dict[str, Any]) -> TicketEvent:
        event = TicketEvent(
            ticket=ticket, kind=kind, actor=None, body=body, is_public=False, data=data
        )
        self.events.append(event)
        return event

    def flush(self) -> None:
        """Write the waiting rows (``timeline.record``'s rules: back-dated to ``now`` when the
        sweep runs for another instant, ``ticket_event`` announced on commit)."""
        if self.breached:
            Ticket.objects.filter(pk__in=self.breached, sla_breached=False).update(
                sla_breached=True
            )
            self.breached = set()
        if self.mails:
            OutboundMail.objects.bulk_create(self.mails)
            self.mails = []
        for event, mails in self.mail_lists:
            event.data["mails"] = [mail.pk for mail in mails]
        self.mail_lists = []
        if self.events:
            events = TicketEvent.objects.bulk_create(self.events)
            stamped = events[0].created_at
            if abs((stamped - self.now).total_seconds()) > timeline.BACKDATE_SECONDS:
                TicketEvent.objects.filter(pk__in=[e.pk for e in events]).update(
                    created_at=self.now
                )
                for event in events:
                    event.created_at = self.now
            for event in events:
                send_on_commit(event)
            self.events = []


def _recipients(ticket: Ticket, trigger: str, batch: _Batch) -> list[tuple[str, User]]:
    """(role, user) pairs to notify, without duplicates, active users only."""
    people: list[tuple[str, User | None]] = []
    lead = ticket.team.lead if ticket.team is not None else None
    if trigger == sla.WARNING_1:
        people.append(("assignee", ticket.assignee) if ticket.assignee else ("team_lead", lead))
    else:
        people += [("assignee", ticket.assignee), ("team_lead", lead)]
    if trigger == sla.BREACH:
        people += [("service_manager", manager) for manager in batch.managers()]
    seen: set[int] = set()
    result = []
    for role, user in people:
        if user is None or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        result.append((role, user))
    return result


def _mail(ticket: Ticket, user: User, subject: str, body: str) -> OutboundMail | None:
    if not user.email:
        return None
    language = user.language or "zh-hans"
    with translation.override(language):
        text = f"{ticket.number} {ticket.title}\n\n{body}\n"
        return OutboundMail(
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
    ticket: Ticket, clock: SlaClock, trigger: str, actions: list[dict[str, Any]], batch: _Batch
) -> list[OutboundMail]:
    """One outbound mail per recipient (written with the batch); returns the mails."""
    mails = []
    for role, user in _recipients(ticket, trigger, batch):
        with translation.override(user.language or "zh-hans"):
            subject = _trigger_text(clock, trigger)
            due = clock.due_at.isoformat() if clock.due_at else ""
            body = _("Due at %(due)s (UTC). Please act on the ticket.") % {"due": due}
        mail = _mail(ticket, user, subject, body)
        actions.append({"action": "notify", "role": role, "user": user.pk})
        if mail is not None:
            mails.append(mail)
    batch.mails += mails
    return mails


def _raise_priority(ticket: Ticket, now: dt.datetime, actions: list[dict[str, Any]]) -> None:
    from opsassure.servicedesk import services  # services → sla → (sweep) → here

    if ticket.priority <= 1:
        return
    old = ticket.priority
    services.update_ticket(ticket, actor=None, priority=old - 1, now=now)
    actions.append({"action": "raise_priority", "from": old, "to": old - 1})


def _reassign_to_lead(ticket: Ticket, now: dt.datetime, actions: list[dict[str, Any]]) -> None:
    from opsassure.servicedesk import services

    lead = ticket.team.lead if ticket.team_id and ticket.team else None
    if lead is None or not lead.is_active or lead.pk == ticket.assignee_id:
        return
    old = ticket.assignee_id
    try:
        with transaction.atomic():  # a refusal must not undo the escalation or stop the sweep
            services.assign(ticket, actor=None, team=ticket.team, assignee=lead, now=now)
    except ServiceDeskError as error:
        # E.g. a lead who is not a member of the team: recorded on the escalation, not retried.
        actions.append({"action": "reassign", "to": lead.pk, "refused": str(error.message)})
        return
    actions.append({"action": "reassign", "from": old, "to": lead.pk})


def fire(clock: SlaClock, trigger: str, *, now: dt.datetime) -> Escalation | None:
    """Run ``trigger``'s actions for ``clock`` once; None if it had fired already."""
    fired = fire_many([(clock, trigger)], now=now)
    return fired[0] if fired else None


def _new_escalations(
    items: Sequence[tuple[SlaClock, str]], tickets: dict[int, Ticket]
) -> list[tuple[SlaClock, str, Escalation]]:
    """The ``Escalation`` rows of the items that had not fired yet, written first (the unique
    (clock, trigger) constraint: a second writer gets nothing to do)."""
    done = set(
        Escalation.objects.filter(
            clock_id__in={clock.pk for clock, _trigger in items},
            trigger__in={trigger for _clock, trigger in items},
        ).values_list("clock_id", "trigger")
    )
    todo = []
    for clock, trigger in items:
        if (clock.pk, trigger) in done:
            continue
        done.add((clock.pk, trigger))
        kind = Escalation.Kind.HIERARCHICAL if trigger == sla.BREACH else Escalation.Kind.FUNCTIONAL
        row = Escalation(
            ticket=tickets[clock.ticket_id], clock=clock, kind=kind, trigger=trigger, actions=[]
        )
        todo.append((clock, trigger, row))
    try:
        with transaction.atomic():
            Escalation.objects.bulk_create([row for _clock, _trigger, row in todo])
    except IntegrityError:  # a concurrent writer got some first: one by one, keep the rest
        kept = []
        for clock, trigger, row in todo:
            row.pk = None
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
            except IntegrityError:
                continue
            kept.append((clock, trigger, row))
        todo = kept
    return todo


def fire_many(items: Sequence[tuple[SlaClock, str]], *, now: dt.datetime) -> list[Escalation]:
    """``fire`` for many (clock, trigger) pairs at once, in order; returns the escalations that
    fired (those that had fired already are skipped). Inside the caller's transaction.

    The sweep's bulk path: one query for the tickets, one for the escalations already there,
    and the escalation rows, timeline entries and mails written in bulk — the same rows, in
    the same order, as firing them one by one.
    """
    from opsassure.servicedesk import services

    if not items:
        return []
    tickets = Ticket.objects.select_related("team", "team__lead", "assignee").in_bulk(
        {clock.ticket_id for clock, _trigger in items}
    )
    batch = _Batch(now)
    fired: list[Escalation] = []
    for clock, trigger, escalation in _new_escalations(items, tickets):
        ticket = tickets[clock.ticket_id]
        is_sla = clock.team_id is None
        actions: list[dict[str, Any]] = []
        summary = _trigger_text(clock, trigger)
        batch.event(
            ticket,
            TicketEvent.Kind.SLA,
            summary,
            {
                "clock": clock.pk,
                "metric": clock.metric,
                "team": clock.team_id,
                "trigger": trigger,
                "due_at": clock.due_at.isoformat() if clock.due_at else None,
            },
        )
        if trigger == sla.BREACH and is_sla:
            batch.breached.add(ticket.pk)
            ticket.sla_breached = True
        if trigger == sla.WARNING_2 and is_sla and conf.functional_escalation():
            old_level = ticket.support_level
            level = services.bump_support_level(ticket)
            if level is not None:
                actions.append({"action": "support_level", "from": old_level, "to": level})
        mails = _notify(ticket, clock, trigger, actions, batch)
        if trigger == sla.BREACH and is_sla and conf.breach_raises_priority():
            batch.flush()  # the priority change writes its own timeline entries
            _raise_priority(ticket, now, actions)
        if trigger == sla.BREACH and is_sla and conf.breach_reassigns_to_lead():
            batch.flush()  # so does the assignment
            _reassign_to_lead(ticket, now, actions)
        if escalation.kind == Escalation.Kind.HIERARCHICAL:
            body = _("Hierarchical escalation to management: %(what)s") % {"what": summary}
        else:
            body = _("Functional escalation: %(what)s") % {"what": summary}
        entry = batch.event(
            ticket,
            TicketEvent.Kind.ESCALATION,
            body,
            {
                "escalation": escalation.pk,
                "kind": escalation.kind,
                "trigger": trigger,
                "actions": actions,
                "mails": [],
            },
        )
        batch.mail_lists.append((entry, mails))
        escalation.actions = actions
        fired.append(escalation)
    batch.flush()
    if fired:
        fields = ["actions"]
        if abs((fired[0].created_at - now).total_seconds()) > timeline.BACKDATE_SECONDS:
            fields.append("created_at")  # a sweep run for a past instant (history, demo data)
            for escalation in fired:
                escalation.created_at = now
        bulk.update_rows(Escalation, fired, fields)
    return fired
