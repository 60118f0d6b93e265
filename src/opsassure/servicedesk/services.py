"""Service-desk operations. Every write to a ticket goes through here.

Each function runs in one transaction: it checks who may do it and whether the input is
valid (raising a ``ServiceDeskError`` — nothing is written then), changes the ticket, moves
its SLA clocks (``sla``), and appends the timeline entry, which other modules hear about
through ``signals.ticket_event`` once the transaction has committed.

``actor`` is the user doing it, or None for the platform itself (auto-close, the mail
channel, the sweep). ``now`` exists for tests and imports of history; it defaults to the
current time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from opsassure.catalog.models import Impact, Priority, Service, SlaMetric, Urgency
from opsassure.catalog.policies import policy_for, priority_for
from opsassure.cmdb.models import ConfigurationItem
from opsassure.core.models import Customer, CustomerContact, Team, User
from opsassure.servicedesk import conf, sla, timeline, workflow
from opsassure.servicedesk.access import check_customer, check_sees, staff_or_system
from opsassure.servicedesk.attachments import add_attachment
from opsassure.servicedesk.errors import (
    AlreadyRatedError,
    ConflictError,
    InvalidInputError,
    NotPermittedError,
    TransitionNotAllowed,
)
from opsassure.servicedesk.models import (
    Channel,
    PendingReason,
    Rating,
    ResolutionCode,
    SlaClock,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketStatus,
)
from opsassure.servicedesk.numbering import next_number
from opsassure.servicedesk.querysets import own_tickets_only

__all__ = [
    "add_attachment",
    "add_reply",
    "assign",
    "auto_close_resolved",
    "bump_support_level",
    "create_ticket",
    "rate",
    "record_arrival",
    "transition",
    "update_ticket",
]

# Fields ``update_ticket`` accepts (everything else has its own operation).
EDITABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "category",
        "impact",
        "urgency",
        "priority",
        "service",
        "is_major",
        "shared_with_customer",
        "parent",
        "duplicate_of",
        "requester_contact",
        "requester_name",
        "requester_email",
        "cis",
    }
)


# --- checks ---------------------------------------------------------------------------------


def _lock(ticket: Ticket) -> Ticket:
    """The ticket, re-read under a row lock (PostgreSQL) so concurrent moves serialise."""
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("sla_policy")
        .get(pk=ticket.pk)
    )


def _choice(value: Any, choices: Iterable[Any], field: str, problems: dict[str, str]) -> None:
    if value not in {str(c) if isinstance(c, str) else c for c in choices}:
        problems[field] = _("Not a valid choice.")


def _check_team_and_assignee(
    customer: Customer, team: Team | None, assignee: User | None, problems: dict[str, str]
) -> None:
    if team is not None and (
        not team.is_active or not team.customers.filter(pk=customer.pk).exists()
    ):
        problems["team"] = _("This team does not serve the ticket's customer.")
    if assignee is not None:
        if assignee.customer_id is not None or not assignee.is_active:
            problems["assignee"] = _("Tickets are assigned to active provider staff only.")
        elif team is not None and not team.members.filter(pk=assignee.pk).exists():
            problems["assignee"] = _("The assignee is not a member of the team.")


def _raise(problems: dict[str, str]) -> None:
    if problems:
        raise InvalidInputError(problems)


# --- create ---------------------------------------------------------------------------------


@transaction.atomic
def create_ticket(
    *,
    actor: User | None,
    customer: Customer,
    title: str,
    description: str = "",
    kind: str = TicketKind.INCIDENT,
    channel: str = Channel.PORTAL,
    requester: User | None = None,
    requester_contact: CustomerContact | None = None,
    requester_name: str = "",
    requester_email: str = "",
    service: Service | None = None,
    impact: int = Impact.MEDIUM,
    urgency: int = Urgency.MEDIUM,
    priority: int | None = None,
    category: str = "",
    team: Team | None = None,
    assignee: User | None = None,
    cis: Iterable[ConfigurationItem] = (),
    is_major: bool = False,
    shared_with_customer: bool = False,
    now: dt.datetime | None = None,
) -> Ticket:
    """Open a ticket: number it (INC-2026-000123 / REQ-…), pick the SLA policy and priority,
    start the SLA clocks. A customer user opens tickets for their own customer only, as
    requester, and leaves priority and assignment to the provider."""
    explicit_time = now is not None
    now = now or timezone.now()
    kind_of_actor = workflow.actor_kind(actor)
    if actor is not None:
        if kind_of_actor is None or not actor.has_perm("servicedesk.add_ticket"):
            raise NotPermittedError(_("You are not allowed to open tickets."))
        check_customer(actor, customer)
    problems: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        problems["title"] = _("This field is required.")
    elif len(title) > 300:
        problems["title"] = _("At most 300 characters.")
    _choice(kind, TicketKind.values, "kind", problems)
    _choice(channel, Channel.values, "channel", problems)
    _choice(impact, Impact.values, "impact", problems)
    _choice(urgency, Urgency.values, "urgency", problems)
    if priority is not None:
        _choice(priority, Priority.values, "priority", problems)
    cis = list(cis)
    if kind_of_actor == workflow.CUSTOMER:
        assert actor is not None
        if requester is not None and requester.pk != actor.pk:
            problems["requester"] = _("You open tickets for yourself.")
        requester = actor
        for name, value in (("priority", priority), ("team", team), ("assignee", assignee)):
            if value is not None:
                problems[name] = _("The service desk sets this.")
    if requester is not None and requester.customer_id != customer.pk:
        problems["requester"] = _("The requester is not a user of this customer.")
    if requester_contact is not None and requester_contact.customer_id != customer.pk:
        problems["requester_contact"] = _("The contact belongs to another customer.")
    if service is not None and service.customer_id != customer.pk:
        problems["service"] = _("The service belongs to another customer.")
    if any(ci.customer_id != customer.pk for ci in cis):
        problems["cis"] = _("Configuration items must belong to the ticket's customer.")
    _check_team_and_assignee(customer, team, assignee, problems)
    _raise(problems)
    if assignee is not None and team is None:
        team = assignee.teams.filter(customers=customer, is_active=True).order_by("pk").first()
    policy = policy_for(customer, service)
    if priority is None:
        priority = priority_for(policy, impact, urgency)
    if requester is not None:
        requester_name = requester_name or str(requester)
        requester_email = requester_email or requester.email
    elif requester_contact is not None:
        requester_name = requester_name or requester_contact.name
        requester_email = requester_email or requester_contact.email
    ticket = Ticket(
        customer=customer,
        kind=kind,
        number=next_number(kind, now),
        title=title,
        description=description,
        status=TicketStatus.ASSIGNED if team or assignee else TicketStatus.NEW,
        channel=channel,
        requester=requester,
        requester_contact=requester_contact,
        requester_name=requester_name[:200],
        requester_email=requester_email,
        shared_with_customer=shared_with_customer,
        service=service,
        category=category[:100],
        impact=impact,
        urgency=urgency,
        priority=priority,
        sla_policy=policy,
        team=team,
        assignee=assignee,
        is_major=is_major,
    )
    clocks = sla.plan_clocks(ticket, now=now)
    ticket.save()
    if explicit_time:  # history imports and tests: the ticket was opened at ``now``
        Ticket.objects.filter(pk=ticket.pk).update(created_at=now)
        ticket.created_at = now
    SlaClock.objects.bulk_create(clocks)
    if cis:
        ticket.cis.set(cis)
    timeline.record(
        ticket,
        TicketEvent.Kind.CREATED,
        at=now,
        actor=actor,
        body=description,
        data={
            "number": ticket.number,
            "channel": channel,
            "priority": priority,
            "team": team.pk if team else None,
            "assignee": assignee.pk if assignee else None,
        },
    )
    return ticket


# --- status ---------------------------------------------------------------------------------


def _stop_metric(ticket: Ticket, metric: str, now: dt.datetime) -> None:
    """Stop ``metric``'s clocks and keep the measured times on the ticket (for KPIs)."""
    clock = sla.stop(ticket, metric, now=now)
    if metric == SlaMetric.ARRIVAL:
        return
    business = clock.elapsed_seconds if clock is not None else None
    wall = (
        clock.wall_seconds
        if clock is not None
        else max(0, int((now - ticket.created_at).total_seconds()))
    )
    if metric == SlaMetric.RESPONSE:
        ticket.response_business_seconds = business
        ticket.response_wall_seconds = wall
    else:
        ticket.resolution_business_seconds = business
        ticket.resolution_wall_seconds = wall


def _mark_responded(ticket: Ticket, now: dt.datetime) -> list[str]:
    if ticket.responded_at is not None:
        return []
    ticket.responded_at = now
    _stop_metric(ticket, SlaMetric.RESPONSE, now)
    return ["responded_at", "response_business_seconds", "response_wall_seconds"]


def _check_transition(ticket: Ticket, actor: User | None, to: str, now: dt.datetime) -> None:
    kind = workflow.actor_kind(actor)
    current = ticket.status
    if to == current or not workflow.may(kind, current, to):
        raise TransitionNotAllowed(
            current=current, to=to, allowed=workflow.allowed_targets(kind, current)
        )
    if kind != workflow.CUSTOMER:
        return
    assert actor is not None
    if to == TicketStatus.REOPENED:
        resolved_at = ticket.resolved_at or now
        if now > resolved_at + dt.timedelta(days=conf.reopen_days()):
            raise TransitionNotAllowed(
                current=current,
                to=to,
                allowed=[s for s in workflow.allowed_targets(kind, current) if s != to],
                reason=_("The reopen window of %(days)d days has passed; open a new ticket.")
                % {"days": conf.reopen_days()},
            )
    if to == TicketStatus.CANCELLED and own_tickets_only(actor) and ticket.requester_id != actor.pk:
        raise NotPermittedError(_("Only the requester can withdraw this ticket."))


@transaction.atomic
def transition(
    ticket: Ticket,
    *,
    actor: User | None,
    to: str,
    pending_reason: str = "",
    resolution_code: str = "",
    resolution_note: str = "",
    comment: str = "",
    now: dt.datetime | None = None,
) -> Ticket:
    """Move the ticket to status ``to`` if the workflow lets ``actor`` do it (else 409).

    Pending pauses the SLA clocks, leaving pending resumes them; in progress (or resolving)
    is the response; resolved stops the clocks and needs a resolution code and note;
    reopened runs the resolution clock again with its banked time (``reopen_count`` + 1).
    """
    now = now or timezone.now()
    check_sees(actor, ticket)
    ticket = _lock(ticket)
    to = str(to)
    _check_transition(ticket, actor, to, now)
    problems: dict[str, str] = {}
    if to == TicketStatus.ASSIGNED and ticket.team_id is None and ticket.assignee_id is None:
        problems["team"] = _("Assign a team or an engineer first.")
    if to == TicketStatus.PENDING and pending_reason not in PendingReason.values:
        problems["pending_reason"] = _("Say what the ticket is waiting for.")
    if to == TicketStatus.RESOLVED:
        if resolution_code not in ResolutionCode.values:
            problems["resolution_code"] = _("Choose a resolution code.")
        if not resolution_note.strip():
            problems["resolution_note"] = _("Describe the resolution.")
    _raise(problems)
    previous = ticket.status
    fields = ["status", "pending_reason", "response_due", "resolution_due"]
    if previous == TicketStatus.PENDING and to not in workflow.RESOLVING:
        sla.resume(ticket, now=now)
    ticket.pending_reason = ""
    if to == TicketStatus.PENDING:
        sla.pause(ticket, now=now)
        ticket.pending_reason = pending_reason
    elif to == TicketStatus.IN_PROGRESS and workflow.actor_kind(actor) == workflow.STAFF:
        # Taking the ticket up is the provider's response; a customer's reply ending the
        # wait (system) is not.
        fields += _mark_responded(ticket, now)
    elif to in workflow.RESOLVING:
        if to == TicketStatus.RESOLVED:  # resolving answers the customer, at the latest
            fields += _mark_responded(ticket, now)
        else:  # a withdrawn ticket was never answered: its clocks just stop
            sla.stop(ticket, SlaMetric.RESPONSE, now=now)
        _stop_metric(ticket, SlaMetric.ARRIVAL, now)
        _stop_metric(ticket, SlaMetric.RESOLUTION, now)
        fields += ["resolution_business_seconds", "resolution_wall_seconds"]
        if to == TicketStatus.RESOLVED:
            ticket.resolved_at = now
            ticket.resolution_code = resolution_code
            ticket.resolution_note = resolution_note.strip()
            fields += ["resolved_at", "resolution_code", "resolution_note"]
        else:
            ticket.closed_at = now
            fields.append("closed_at")
    elif to == TicketStatus.CLOSED:
        ticket.closed_at = now
        fields.append("closed_at")
    elif to == TicketStatus.REOPENED:
        ticket.reopen_count += 1
        ticket.resolved_at = None
        ticket.resolution_business_seconds = None
        ticket.resolution_wall_seconds = None
        sla.restart(ticket, SlaMetric.RESOLUTION, now=now)
        fields += [
            "reopen_count",
            "resolved_at",
            "resolution_business_seconds",
            "resolution_wall_seconds",
        ]
    ticket.status = to
    ticket.save(update_fields=[*dict.fromkeys(fields), "updated_at"])
    timeline.record(
        ticket,
        TicketEvent.Kind.STATUS,
        at=now,
        actor=actor,
        body=comment.strip(),
        data={
            "from": previous,
            "to": to,
            "pending_reason": ticket.pending_reason,
            "resolution_code": resolution_code if to == TicketStatus.RESOLVED else "",
        },
    )
    return ticket


# --- assignment -----------------------------------------------------------------------------


@transaction.atomic
def assign(
    ticket: Ticket,
    *,
    actor: User | None,
    team: Team | None = None,
    assignee: User | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Assign a team and/or an engineer. A new or reopened ticket becomes "assigned".

    A team alone keeps the engineer only if they belong to it; an engineer alone keeps the
    team if they belong to it, else takes their team that serves the customer. The old
    team's OLA clocks stop, the new team's start.
    """
    now = now or timezone.now()
    staff_or_system(actor)
    check_sees(actor, ticket)
    if team is None and assignee is None:
        raise InvalidInputError({"team": _("Give a team, an engineer, or both.")})
    ticket = _lock(ticket)
    if ticket.status in workflow.FINAL_STATUSES:
        raise ConflictError(_("A closed or cancelled ticket cannot be reassigned."))
    customer = ticket.customer
    if team is None:
        assert assignee is not None
        current = ticket.team
        if current is not None and current.members.filter(pk=assignee.pk).exists():
            team = current
        else:
            team = assignee.teams.filter(customers=customer, is_active=True).order_by("pk").first()
            if team is None:
                raise InvalidInputError(
                    {"assignee": _("The engineer is in no team that serves this customer.")}
                )
    elif (
        assignee is None
        and ticket.assignee is not None
        and team.members.filter(pk=ticket.assignee_id).exists()
    ):
        assignee = ticket.assignee
    problems: dict[str, str] = {}
    _check_team_and_assignee(customer, team, assignee, problems)
    _raise(problems)
    old_team_id, old_assignee_id = ticket.team_id, ticket.assignee_id
    ticket.team = team
    ticket.assignee = assignee
    previous = ticket.status
    if previous in (TicketStatus.NEW, TicketStatus.REOPENED):
        ticket.status = TicketStatus.ASSIGNED
    sla.switch_team(ticket, old_team_id, now=now)
    ticket.save(update_fields=["team", "assignee", "status", "updated_at"])
    timeline.record(
        ticket,
        TicketEvent.Kind.ASSIGNMENT,
        at=now,
        actor=actor,
        body=_("Assigned to %(who)s") % {"who": str(assignee or team)},
        data={
            "team": [old_team_id, team.pk if team else None],
            "assignee": [old_assignee_id, assignee.pk if assignee else None],
            "status": [previous, ticket.status],
        },
    )
    return ticket


# --- conversation ---------------------------------------------------------------------------


@transaction.atomic
def add_reply(
    ticket: Ticket,
    *,
    actor: User | None,
    body: str,
    public: bool = True,
    author_email: str = "",
    mail: Any = None,
    now: dt.datetime | None = None,
) -> TicketEvent:
    """A public reply or (``public=False``) an internal note.

    The first public reply of provider staff is the response (stops the response clock). A
    reply of the customer to a ticket waiting for the customer ends the wait (the clocks run
    again). ``mail`` is the ``InboundMail`` a reply came in with (the entry is then an
    "e-mail received" entry and the mail is linked to the ticket).
    """
    now = now or timezone.now()
    kind = workflow.actor_kind(actor)
    body = (body or "").strip()
    if not body:
        raise InvalidInputError({"body": _("This field is required.")})
    if kind is None:
        raise NotPermittedError()
    check_sees(actor, ticket)
    if kind == workflow.CUSTOMER:
        if not public:
            raise NotPermittedError(_("Internal notes are for the service staff."))
        if ticket.status in workflow.FINAL_STATUSES:
            raise ConflictError(_("This ticket is closed; please open a new one."))
    ticket = _lock(ticket)
    from_provider = kind == workflow.STAFF
    if mail is not None:
        event_kind = TicketEvent.Kind.MAIL_IN
    else:
        event_kind = TicketEvent.Kind.REPLY if public else TicketEvent.Kind.NOTE
    event = timeline.record(
        ticket,
        event_kind,
        at=now,
        actor=actor,
        body=body,
        public=public,
        data={"from": author_email} if author_email else {},
    )
    if mail is not None:
        type(mail).objects.filter(pk=mail.pk).update(ticket=ticket)
    if public and from_provider and ticket.status not in workflow.FINAL_STATUSES:
        fields = _mark_responded(ticket, now)
        if fields:
            ticket.save(update_fields=[*fields, "updated_at"])
    elif (
        public
        and not from_provider
        and ticket.status == TicketStatus.PENDING
        and ticket.pending_reason == PendingReason.CUSTOMER
    ):
        transition(ticket, actor=None, to=TicketStatus.IN_PROGRESS, now=now)
    return event


# --- fields ---------------------------------------------------------------------------------


def _validate_changes(ticket: Ticket, changes: dict[str, Any]) -> dict[str, str]:
    problems: dict[str, str] = {}
    unknown = sorted(set(changes) - EDITABLE_FIELDS)
    for name in unknown:
        problems[name] = _("This field cannot be changed here.")
    if "title" in changes:
        changes["title"] = str(changes["title"] or "").strip()
        if not changes["title"]:
            problems["title"] = _("This field is required.")
        elif len(changes["title"]) > 300:
            problems["title"] = _("At most 300 characters.")
    for name, choices in (("impact", Impact), ("urgency", Urgency), ("priority", Priority)):
        if name in changes:
            _choice(changes[name], choices.values, name, problems)
    service = changes.get("service")
    if service is not None and service.customer_id != ticket.customer_id:
        problems["service"] = _("The service belongs to another customer.")
    for name in ("parent", "duplicate_of"):
        other = changes.get(name)
        if other is not None and (other.customer_id != ticket.customer_id or other.pk == ticket.pk):
            problems[name] = _("Choose another ticket of the same customer.")
    contact = changes.get("requester_contact")
    if contact is not None and contact.customer_id != ticket.customer_id:
        problems["requester_contact"] = _("The contact belongs to another customer.")
    if "cis" in changes:
        changes["cis"] = list(changes["cis"])
        if any(ci.customer_id != ticket.customer_id for ci in changes["cis"]):
            problems["cis"] = _("Configuration items must belong to the ticket's customer.")
    return problems


def _jsonable(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    return value


@transaction.atomic
def update_ticket(
    ticket: Ticket, *, actor: User | None, now: dt.datetime | None = None, **changes: Any
) -> Ticket:
    """Change fields (``EDITABLE_FIELDS``). New impact/urgency re-derive the priority unless
    one is given; a new priority or a service with another policy re-targets the SLA clocks
    (business time done is kept; deadlines and warnings are recomputed)."""
    now = now or timezone.now()
    staff_or_system(actor)
    check_sees(actor, ticket)
    ticket = _lock(ticket)
    _raise(_validate_changes(ticket, changes))
    if ticket.status in workflow.FINAL_STATUSES:
        raise ConflictError(_("A closed or cancelled ticket cannot be changed."))
    cis = changes.pop("cis", None)
    before = {name: _jsonable(getattr(ticket, name)) for name in changes}
    before.setdefault("priority", ticket.priority)
    for name, value in changes.items():
        setattr(ticket, name, value)
    if ("impact" in changes or "urgency" in changes) and "priority" not in changes:
        policy_now = policy_for(ticket.customer_id, ticket.service)
        ticket.priority = priority_for(policy_now, ticket.impact, ticket.urgency)
    policy = policy_for(ticket.customer_id, ticket.service) if "service" in changes else None
    policy_changed = "service" in changes and getattr(policy, "pk", None) != ticket.sla_policy_id
    if policy_changed:
        before["sla_policy"] = ticket.sla_policy_id
        ticket.sla_policy = policy
    diff = {
        name: [old, _jsonable(getattr(ticket, name))]
        for name, old in before.items()
        if old != _jsonable(getattr(ticket, name))
    }
    if "priority" in diff or policy_changed:
        sla.retarget(ticket, now=now)
    if cis is not None:
        old_cis = sorted(ticket.cis.values_list("pk", flat=True))
        ticket.cis.set(cis)
        new_cis = sorted(ci.pk for ci in cis)
        if old_cis != new_cis:
            diff["cis"] = [old_cis, new_cis]
    if not diff:
        return ticket
    ticket.save()
    timeline.record(ticket, TicketEvent.Kind.FIELD, at=now, actor=actor, data={"changes": diff})
    return ticket


# --- on site, ratings, closing -------------------------------------------------------------


@transaction.atomic
def record_arrival(ticket: Ticket, *, actor: User | None, at: dt.datetime | None = None) -> Ticket:
    """An engineer arrived on site (到场) at ``at`` (default now): stops the arrival clock."""
    now = timezone.now()
    at = at or now
    staff_or_system(actor)
    check_sees(actor, ticket)
    if at > now + dt.timedelta(minutes=5):
        raise InvalidInputError({"at": _("The arrival cannot be in the future.")})
    ticket = _lock(ticket)
    if at < ticket.created_at:
        raise InvalidInputError({"at": _("The arrival cannot be before the ticket was opened.")})
    if ticket.arrived_at is not None:
        raise ConflictError(_("The arrival on site is already recorded."))
    if ticket.status in workflow.FINAL_STATUSES:
        raise ConflictError(_("A closed or cancelled ticket cannot be changed."))
    ticket.arrived_at = at
    sla.stop(ticket, SlaMetric.ARRIVAL, now=at)
    ticket.save(update_fields=["arrived_at", "updated_at"])
    timeline.record(
        ticket, TicketEvent.Kind.STATUS, at=at, actor=actor, data={"arrived_at": at.isoformat()}
    )
    return ticket


@transaction.atomic
def rate(
    ticket: Ticket,
    *,
    actor: User | None,
    score: int,
    comment: str = "",
    now: dt.datetime | None = None,
) -> Rating:
    """The requester's rating (1–5) of a resolved or closed ticket; one per ticket.

    ``actor`` is a customer user who sees the ticket, or None when the rating came through
    the signed link of the e-mail (``ratings.rate_with_token``).
    """
    kind = workflow.actor_kind(actor)
    if kind not in (workflow.CUSTOMER, workflow.SYSTEM):
        raise NotPermittedError(_("Only the customer rates tickets."))
    check_sees(actor, ticket)
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidInputError({"score": _("A whole number from 1 to 5.")})
    ticket = _lock(ticket)
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise ConflictError(_("Only a resolved ticket can be rated."))
    if Rating.objects.filter(ticket=ticket).exists():
        raise AlreadyRatedError()
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                ticket=ticket,
                score=score,
                comment=comment.strip(),
                rated_by=actor or ticket.requester,
            )
    except IntegrityError as error:  # a concurrent rating won
        raise AlreadyRatedError() from error
    now = now or timezone.now()
    if abs((rating.created_at - now).total_seconds()) > timeline.BACKDATE_SECONDS:
        Rating.objects.filter(pk=rating.pk).update(created_at=now)
        rating.created_at = now
    timeline.record(
        ticket,
        TicketEvent.Kind.RATING,
        at=now,
        actor=actor,
        body=rating.comment,
        data={"score": score},
    )
    return rating


def auto_close_resolved(now: dt.datetime | None = None, *, limit: int = 1000) -> list[int]:
    """Close tickets resolved more than ``OPSASSURE_AUTO_CLOSE_DAYS`` ago (idempotent).

    Each ticket in its own transaction, re-checked under its lock: a ticket reopened in the
    meantime is left alone. Returns the ids closed.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=conf.auto_close_days())
    candidates = list(
        Ticket.objects.filter(status=TicketStatus.RESOLVED, resolved_at__lte=cutoff)
        .order_by("resolved_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    closed = []
    for ticket_id in candidates:
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
            if ticket is None or ticket.status != TicketStatus.RESOLVED:
                continue
            if ticket.resolved_at is None or ticket.resolved_at > cutoff:
                continue
            transition(
                ticket,
                actor=None,
                to=TicketStatus.CLOSED,
                comment=_("Closed automatically %(days)d days after resolution.")
                % {"days": conf.auto_close_days()},
                now=now,
            )
            closed.append(ticket_id)
    return closed


def bump_support_level(ticket: Ticket, *, actor: User | None = None) -> int | None:
    """Functional escalation: the next support level (at most 3); returns it, None at the top."""
    updated = Ticket.objects.filter(pk=ticket.pk, support_level__lt=3).update(
        support_level=F("support_level") + 1
    )
    if not updated:
        return None
    ticket.refresh_from_db(fields=["support_level"])
    return ticket.support_level
