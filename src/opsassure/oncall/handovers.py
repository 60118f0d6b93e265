"""The duty handover log (交接班): written at hand-off, acknowledged by the next person,
escalated once to the team lead (or, without a lead, the team's service managers) when
nobody acknowledges it in time."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from opsassure.core.models import User
from opsassure.notify import services as notify
from opsassure.oncall import conf
from opsassure.oncall.errors import ConflictError, InvalidInputError, NotPermittedError
from opsassure.oncall.models import Handover, Schedule
from opsassure.oncall.schedules import current_shift, who_is_on_call

logger = logging.getLogger(__name__)
TEMPLATE = "oncall_handover_overdue"


@transaction.atomic
def write_handover(
    schedule: Schedule,
    *,
    outgoing: User,
    incoming: User | None = None,
    open_issues: str = "",
    notes: str = "",
    handoff_at: dt.datetime | None = None,
) -> Handover:
    """The outgoing person's handover. ``incoming`` defaults to whoever is on call at the
    end of the current shift (the next shift's person)."""
    if outgoing.customer_id is not None or not outgoing.is_active:
        raise NotPermittedError(_("Only the provider's staff write handovers."))
    if not open_issues.strip() and not notes.strip():
        raise InvalidInputError({"notes": _("Write the open issues or a note.")})
    now = timezone.now()
    if handoff_at is None:
        shift = current_shift(schedule, now)
        handoff_at = shift.end if shift is not None else now
    if incoming is None:
        after = who_is_on_call(schedule, handoff_at)
        if not after:
            raise InvalidInputError({"incoming": _("Nobody is on call after the hand-off.")})
        incoming = after[0]
    if incoming.customer_id is not None or not incoming.is_active:
        raise InvalidInputError({"incoming": _("Only active provider staff take over a duty.")})
    return Handover.objects.create(
        schedule=schedule,
        handoff_at=handoff_at,
        outgoing=outgoing,
        incoming=incoming,
        open_issues=open_issues.strip(),
        notes=notes.strip(),
    )


@transaction.atomic
def acknowledge_handover(handover: Handover, *, user: User) -> Handover:
    """The incoming person (or the team lead) confirms they read the handover. Idempotent."""
    handover = (
        Handover.objects.select_for_update(of=("self",))
        .select_related("schedule__team")
        .get(pk=handover.pk)
    )
    if handover.acknowledged_at is not None:
        return handover
    if user.pk not in (handover.incoming_id, handover.schedule.team.lead_id):
        raise NotPermittedError(_("Only the incoming person or the team lead acknowledges."))
    if handover.state not in (Handover.State.PENDING, Handover.State.ESCALATED):
        raise ConflictError(_("This handover cannot be acknowledged."))
    handover.state = Handover.State.ACKNOWLEDGED
    handover.acknowledged_at = timezone.now()
    handover.acknowledged_by = user
    handover.save(update_fields=["state", "acknowledged_at", "acknowledged_by", "updated_at"])
    return handover


def supervisors(handover: Handover) -> list[User]:
    """Who hears of an unacknowledged handover: the team lead, else the team's members who
    are service managers."""
    team = handover.schedule.team
    if team.lead_id is not None and team.lead is not None and team.lead.is_active:
        return [team.lead]
    return list(team.members.filter(is_active=True, groups__name="service_manager").order_by("pk"))


def escalate_overdue(now: dt.datetime | None = None) -> list[int]:
    """Tell the lead about every handover pending longer than the setting; each once.

    Claimed with a conditional UPDATE (state pending → escalated), so several workers never
    send twice; the notification's dedup key is the second lock.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=conf.handover_ack_minutes())
    candidates = list(
        Handover.objects.filter(state=Handover.State.PENDING, created_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    escalated = []
    for handover_id in candidates:
        with transaction.atomic():
            claimed = Handover.objects.filter(pk=handover_id, state=Handover.State.PENDING).update(
                state=Handover.State.ESCALATED, escalated_at=now
            )
            if claimed != 1:
                continue
            handover = Handover.objects.select_related(
                "schedule__team__lead", "incoming", "outgoing"
            ).get(pk=handover_id)
            recipients = supervisors(handover)
            if not recipients:
                logger.warning("handover %s: team has no lead and no service manager", handover_id)
            for user in recipients:
                notify.notify_user(
                    user,
                    severity="warning",
                    dedup_key=f"handover:{handover.pk}:{user.pk}",
                    template=TEMPLATE,
                    context={
                        "schedule": handover.schedule.name,
                        "outgoing": str(handover.outgoing),
                        "incoming": str(handover.incoming),
                        "minutes": conf.handover_ack_minutes(),
                        "open_issues": handover.open_issues,
                        "url": mark_safe(f"{settings.BASE_URL}/oncall/handovers/"),  # noqa: S308
                    },
                    source=handover,
                )
            escalated.append(handover_id)
    return escalated
