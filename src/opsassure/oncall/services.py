"""On-call operations other apps and the API/UI call (the signatures are an agreed interface).

Every write runs in one transaction; signals go out after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opsassure.core.models import Customer, User
from opsassure.oncall import escalation
from opsassure.oncall.errors import ConflictError, InvalidInputError, NotPermittedError
from opsassure.oncall.links import action_url
from opsassure.oncall.models import EscalationPolicy, EscalationRun, Override, Schedule
from opsassure.oncall.schedules import current_shift, shifts, who_is_on_call
from opsassure.oncall.signals import escalation_acknowledged, escalation_resolved

__all__ = [
    "acknowledge",
    "action_url",
    "create_override",
    "current_shift",
    "escalate_now",
    "resolve",
    "shifts",
    "start_escalation",
    "swap_shifts",
    "who_is_on_call",
]

logger = logging.getLogger(__name__)
Run = EscalationRun.State
VIA_CHOICES = ("web", "api", "email", "link", "im", "system")


def start_escalation(
    *,
    policy: EscalationPolicy,
    customer: Customer | None,
    title: str,
    severity: str,
    ticket: Any = None,
    source: Any = None,
    context: dict[str, Any] | None = None,
) -> EscalationRun:
    """Start paging along ``policy`` (copied onto the run), or return the source's open run.

    Idempotent per source (``source``, else ``ticket``): at most one active or acknowledged
    run per source, guaranteed by a partial unique constraint. The first step is due at
    once and runs right after commit (and by the every-minute sweep if that kick is lost).
    """
    return escalation.start(
        policy=policy,
        customer=customer,
        title=title,
        severity=severity,
        ticket=ticket,
        source=source,
        context=context,
    )


def _lock(run: EscalationRun) -> EscalationRun:
    return (
        EscalationRun.objects.select_for_update(of=("self",))
        .select_related("ticket")
        .get(pk=run.pk)
    )


def _check_responder(user: User) -> None:
    if not user.is_active or user.customer_id is not None:
        raise NotPermittedError(_("Only the provider's staff respond to escalations."))


def _send_on_commit(signal: Any, run: EscalationRun, user: User | None) -> None:
    transaction.on_commit(lambda: signal.send(sender=EscalationRun, run=run, user=user))


def _ticket_note(run: EscalationRun, user: User | None, body: str) -> None:
    from opsassure.servicedesk import timeline
    from opsassure.servicedesk.models import TicketEvent

    if run.ticket is None:
        return
    timeline.record(
        run.ticket,
        TicketEvent.Kind.ESCALATION,
        actor=user,
        body=body,
        public=False,
        data={"escalation_run": run.pk, "state": run.state},
    )


def _take_up_ticket(run: EscalationRun, user: User) -> None:
    """The acknowledging engineer takes the ticket: assigned to them and, if it was only
    assigned, moved to "in progress" (which is the provider's response for the SLA). What
    the service desk refuses (closed ticket, engineer outside the serving teams) is noted on
    the timeline instead; the acknowledgement stands."""
    from opsassure.servicedesk import services as servicedesk
    from opsassure.servicedesk.errors import ServiceDeskError
    from opsassure.servicedesk.models import TicketStatus

    ticket = run.ticket
    if ticket is None:
        return
    try:
        with transaction.atomic():
            if ticket.assignee_id != user.pk:
                ticket = servicedesk.assign(ticket, actor=user, assignee=user)
            if ticket.status in (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.REOPENED):
                servicedesk.transition(ticket, actor=user, to=TicketStatus.IN_PROGRESS)
    except ServiceDeskError as error:
        logger.info("escalation %s: ticket %s not taken up: %s", run.pk, ticket.pk, error)
        _ticket_note(
            run,
            None,
            _("The ticket could not be assigned to %(who)s: %(reason)s")
            % {"who": str(user), "reason": error.message},
        )


@transaction.atomic
def acknowledge(run: EscalationRun, *, user: User, via: str) -> EscalationRun:
    """``user`` takes the escalation: paging stops; the ticket (if any) goes to them.

    Idempotent: acknowledging an acknowledged or resolved run changes nothing and returns
    it (``acknowledged_by`` says who was first).
    """
    _check_responder(user)
    run = _lock(run)
    if run.state in (Run.ACKNOWLEDGED, Run.RESOLVED):
        return run
    now = timezone.now()
    run.state = Run.ACKNOWLEDGED
    run.acknowledged_at = now
    run.acknowledged_by = user
    run.acknowledged_via = via[:16]
    run.stalled_at = None
    try:
        with transaction.atomic():
            run.save(
                update_fields=[
                    "state",
                    "acknowledged_at",
                    "acknowledged_by",
                    "acknowledged_via",
                    "stalled_at",
                    "updated_at",
                ]
            )
    except IntegrityError as error:
        # An exhausted run whose source has a newer open run: that one is the one to take.
        raise ConflictError(
            _("A newer escalation of the same source is open: acknowledge that one.")
        ) from error
    escalation.cancel_pending(run, now)
    _ticket_note(
        run, user, _("Escalation acknowledged by %(who)s (%(via)s).") % {"who": user, "via": via}
    )
    _take_up_ticket(run, user)
    _send_on_commit(escalation_acknowledged, run, user)
    return run


@transaction.atomic
def resolve(run: EscalationRun, *, user: User | None, via: str) -> EscalationRun:
    """The problem is over: paging stops for good. Idempotent like ``acknowledge``.

    ``user`` None is the system (e.g. alerting when every alert of the group resolved).
    The ticket is not resolved from here: that needs a resolution code and note.
    """
    if user is not None:
        _check_responder(user)
    run = _lock(run)
    if run.state == Run.RESOLVED:
        return run
    now = timezone.now()
    run.state = Run.RESOLVED
    run.resolved_at = now
    run.resolved_by = user
    run.resolved_via = via[:16]
    run.stalled_at = None
    run.save(
        update_fields=[
            "state",
            "resolved_at",
            "resolved_by",
            "resolved_via",
            "stalled_at",
            "updated_at",
        ]
    )
    escalation.cancel_pending(run, now)
    _ticket_note(
        run,
        user,
        _("Escalation resolved by %(who)s (%(via)s).")
        % {"who": user or _("the system"), "via": via},
    )
    _send_on_commit(escalation_resolved, run, user)
    return run


@transaction.atomic
def escalate_now(run: EscalationRun, *, user: User) -> EscalationRun:
    """Page the next level now instead of waiting (only while the run is active)."""
    _check_responder(user)
    run = _lock(run)
    if run.state != Run.ACTIVE:
        raise ConflictError(
            _("Only an active escalation can be escalated (this one is %(state)s).")
            % {"state": run.get_state_display()}
        )
    now = timezone.now()
    step = escalation.advance_now(run, now)
    if step is None:
        raise ConflictError(_("There is no further level in this escalation policy."))
    if run.stalled_at is not None:
        run.stalled_at = None
        run.save(update_fields=["stalled_at", "updated_at"])
    _ticket_note(run, user, _("Escalated to the next level by %(who)s.") % {"who": user})
    escalation._kick(run)
    return run


# --- overrides -------------------------------------------------------------------------------


def _check_window(start: dt.datetime, end: dt.datetime) -> None:
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise InvalidInputError({"start": _("Give times with a UTC offset.")})
    if end <= start:
        raise InvalidInputError({"end": _("The end must be after the start.")})


def _check_staff(schedule: Schedule, *users: User) -> None:
    for user in users:
        if user.customer_id is not None or not user.is_active:
            raise InvalidInputError({"user": _("Only active provider staff can be on call.")})


@transaction.atomic
def create_override(
    schedule: Schedule,
    *,
    user: User,
    start: dt.datetime,
    end: dt.datetime,
    reason: str = "",
    actor: User | None = None,
) -> Override:
    """``user`` covers the schedule from ``start`` to ``end`` instead of whoever is on call."""
    _check_window(start, end)
    _check_staff(schedule, user)
    return Override.objects.create(
        schedule=schedule,
        user=user,
        start=start,
        end=end,
        reason=reason[:200],
        created_by=actor,
        kind=Override.Kind.COVER,
    )


@transaction.atomic
def swap_shifts(
    schedule: Schedule,
    *,
    first: tuple[User, dt.datetime, dt.datetime],
    second: tuple[User, dt.datetime, dt.datetime],
    reason: str = "",
    actor: User | None = None,
) -> tuple[Override, Override]:
    """Two people swap shifts: each covers the other's period (two overrides)."""
    (user_a, start_a, end_a), (user_b, start_b, end_b) = first, second
    _check_window(start_a, end_a)
    _check_window(start_b, end_b)
    _check_staff(schedule, user_a, user_b)
    if start_a < end_b and start_b < end_a:
        raise InvalidInputError({"second": _("The two shifts of a swap must not overlap.")})
    common = {"schedule": schedule, "reason": reason[:200], "created_by": actor}
    kind = Override.Kind.SWAP
    a_covers_b = Override.objects.create(user=user_a, start=start_b, end=end_b, kind=kind, **common)
    b_covers_a = Override.objects.create(user=user_b, start=start_a, end=end_a, kind=kind, **common)
    return a_covers_b, b_covers_a
