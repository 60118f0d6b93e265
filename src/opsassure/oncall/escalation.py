"""The escalation engine: start a run, run its due steps exactly once, audit stalled runs.

How a step runs exactly once, on any number of workers, across restarts:

- Every step that will run is an ``EscalationStep`` row (``pending``, ``due_at``, ``fence``)
  written in the transaction that decided it. Nothing waits in the broker: a Celery message
  (the on-commit kick, or the every-minute sweep) only says "look for due rows".
- A worker runs a step inside one transaction: it locks the run row, then claims the step
  with ``UPDATE … SET state='running', fence=fence+1 WHERE id=… AND state='pending' AND
  fence=<read>`` and goes on only if that changed exactly one row. It sends the
  notifications (outbox rows in the same transaction), writes the next step row and marks
  the step done. A worker that dies rolls the whole transaction back: the step is pending
  again and the next sweep runs it. On PostgreSQL the candidates are read with
  ``FOR UPDATE SKIP LOCKED``, so two sweeps do not even wait on each other.
- Lock order is always run, then step (acknowledge does the same), so no deadlocks.
- The notifications' dedup key ``esc:<run>:<position>:<repeat>:<user>`` is the second lock
  on the door.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.safestring import mark_safe

from opsassure.core.jobs import enqueue_on_commit
from opsassure.core.models import Team, User
from opsassure.notify import services as notify
from opsassure.oncall import conf
from opsassure.oncall.models import (
    EscalationPolicy,
    EscalationPolicyStep,
    EscalationRun,
    EscalationStep,
    Schedule,
)
from opsassure.oncall.schedules import who_is_on_call

logger = logging.getLogger(__name__)

TEMPLATE = "oncall_escalation"
Run = EscalationRun.State
Step = EscalationStep.State


# --- the policy snapshot ---------------------------------------------------------------------


def snapshot(policy: EscalationPolicy) -> dict[str, Any]:
    """The policy as plain JSON: what a run follows, whatever happens to the policy later."""
    steps = EscalationPolicyStep.objects.filter(policy=policy).order_by("position")
    return {
        "policy_id": policy.pk,
        "name": policy.name,
        "steps": [
            {
                "target": step.target,
                "user_id": step.user_id,
                "schedule_id": step.schedule_id,
                "team_id": step.team_id,
                "channels": [str(channel) for channel in step.channels or []],
                "wait_minutes": step.wait_minutes,
                "repeat": step.repeat,
            }
            for step in steps
        ],
    }


def resolve_recipients(spec: dict[str, Any], at: dt.datetime) -> list[User]:
    """The people a snapshot step pages at ``at`` (active users only, each once)."""
    target = spec.get("target")
    users: list[User] = []
    if target == EscalationPolicyStep.Target.USER and spec.get("user_id"):
        users = list(User.objects.filter(pk=spec["user_id"]))
    elif target == EscalationPolicyStep.Target.SCHEDULE and spec.get("schedule_id"):
        schedule = Schedule.objects.filter(pk=spec["schedule_id"]).first()
        users = who_is_on_call(schedule, at) if schedule is not None else []
    elif target == EscalationPolicyStep.Target.TEAM and spec.get("team_id"):
        team = Team.objects.filter(pk=spec["team_id"]).first()
        users = list(team.members.order_by("pk")) if team is not None else []
    return [user for user in dict.fromkeys(users) if user.is_active]


def next_after(run: EscalationRun, position: int, repeat: int) -> tuple[int, int] | None:
    """The step that follows ``(position, repeat)`` in the run's snapshot, or None at the end."""
    steps = run.steps_snapshot
    if position < len(steps) and repeat < int(steps[position].get("repeat", 0) or 0):  # type: ignore[call-overload]
        return position, repeat + 1
    if position + 1 < len(steps):
        return position + 1, 0
    return None


def _kick(run: EscalationRun) -> None:
    from opsassure.oncall.tasks import oncall_run_due_steps

    enqueue_on_commit(oncall_run_due_steps, run.pk)


# --- start -----------------------------------------------------------------------------------


@transaction.atomic
def start(
    *,
    policy: EscalationPolicy,
    customer: Any,
    title: str,
    severity: str,
    ticket: Any = None,
    source: Any = None,
    context: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> EscalationRun:
    """See ``services.start_escalation``."""
    from django.db import IntegrityError

    from opsassure.notify.models import source_type_of

    now = now or timezone.now()
    origin = source if source is not None else ticket
    source_type = source_type_of(origin) if origin is not None else ""
    source_id = str(origin.pk) if origin is not None else ""
    if source_type:
        existing = _open_run(source_type, source_id)
        if existing is not None:
            return existing
    run = EscalationRun(
        policy=policy,
        policy_snapshot=snapshot(policy),
        customer=customer,
        ticket=ticket,
        source_type=source_type,
        source_id=source_id,
        title=title[:300],
        severity=severity,
        context=context or {},
    )
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError:
        # Another request started one for the same source in between: theirs stands.
        existing = _open_run(source_type, source_id)
        if existing is None:
            raise
        return existing
    if not run.steps_snapshot:
        run.state = Run.EXHAUSTED
        run.save(update_fields=["state", "updated_at"])
        logger.warning("escalation %s: policy %s has no steps", run.pk, policy.pk)
        return run
    EscalationStep.objects.create(run=run, position=0, repeat=0, due_at=now)
    _kick(run)
    return run


def _open_run(source_type: str, source_id: str) -> EscalationRun | None:
    return (
        EscalationRun.objects.filter(
            source_type=source_type, source_id=source_id, state__in=EscalationRun.OPEN_STATES
        )
        .order_by("-pk")
        .first()
    )


# --- the sweep -------------------------------------------------------------------------------


@dataclass
class SweepResult:
    examined: int = 0
    ran: list[int] = field(default_factory=list)  # step ids this sweep executed


def sweep(
    now: dt.datetime | None = None, *, run_id: int | None = None, batch_size: int | None = None
) -> SweepResult:
    """Run every step due by ``now`` (optionally of one run), each exactly once."""
    now = now or timezone.now()
    batch_size = batch_size or conf.sweep_batch()
    result = SweepResult()
    last_id = 0
    while True:
        due = EscalationStep.objects.filter(state=Step.PENDING, due_at__lte=now, pk__gt=last_id)
        if run_id is not None:
            due = due.filter(run_id=run_id)
        rows = list(due.order_by("pk").values_list("pk", "run_id", "fence")[:batch_size])
        for step_id, step_run_id, fence in rows:
            result.examined += 1
            last_id = step_id
            try:
                if run_step(step_id, step_run_id, fence, now):
                    result.ran.append(step_id)
            except Exception:  # one broken step must not stop the others; it stays pending
                logger.exception("escalation step %s failed", step_id)
        if len(rows) < batch_size:
            return result


def run_step(step_id: int, run_id: int, fence: int, now: dt.datetime) -> bool:
    """Claim step ``step_id`` (read with ``fence``) and run it; False if someone else did."""
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            run = (
                EscalationRun.objects.select_for_update(skip_locked=True).filter(pk=run_id).first()
            )
            if run is None:  # another worker holds this run now; the sweep comes back
                return False
            locked = (
                EscalationStep.objects.select_for_update(skip_locked=True)
                .filter(pk=step_id, state=Step.PENDING, fence=fence)
                .exists()
            )
            if not locked:
                return False
        else:
            run = EscalationRun.objects.get(pk=run_id)  # SQLite: the IMMEDIATE transaction
        claimed = EscalationStep.objects.filter(pk=step_id, state=Step.PENDING, fence=fence).update(
            state=Step.RUNNING, fence=fence + 1, claimed_at=now
        )
        if claimed != 1:
            return False
        step = EscalationStep.objects.get(pk=step_id)
        if run.state != Run.ACTIVE:
            EscalationStep.objects.filter(pk=step_id).update(
                state=Step.CANCELLED, fence=fence + 2, done_at=now
            )
            return False
        _execute(run, step, now)
    return True


def _execute(run: EscalationRun, step: EscalationStep, now: dt.datetime) -> None:
    from opsassure.oncall.links import action_url

    steps = run.steps_snapshot
    spec: dict[str, Any] = steps[step.position] if step.position < len(steps) else {}
    recipients = resolve_recipients(spec, now)
    channels = list(spec.get("channels") or []) or None
    notified: list[int] = []
    errors: list[str] = []
    for user in recipients:
        context = {
            "run": run,
            "title": run.title,
            "severity": run.get_severity_display(),
            "customer": str(run.customer) if run.customer else "",
            "ticket": str(run.ticket.number) if run.ticket else "",
            "level": step.position + 1,
            # What the caller (e.g. alerting) put into the run's context, if anything.
            "summaries": [str(s) for s in run.context.get("summaries", []) or []][:5],
            "source_url": str(run.context.get("url", "") or ""),
            "repeat": step.repeat,
            # Our own URLs: marked safe so that no channel's escaping mangles them.
            "run_url": mark_safe(f"{settings.BASE_URL}{run.get_absolute_url()}"),  # noqa: S308
            "ack_url": mark_safe(action_url(run, "ack", user)),  # noqa: S308
            "resolve_url": mark_safe(action_url(run, "resolve", user)),  # noqa: S308
            "escalate_url": mark_safe(action_url(run, "escalate", user)),  # noqa: S308
        }
        try:
            with transaction.atomic():
                notify.notify_user(
                    user,
                    severity=run.severity,
                    dedup_key=f"esc:{run.pk}:{step.position}:{step.repeat}:{user.pk}",
                    template=TEMPLATE,
                    context=context,
                    source=run,
                    customer=run.customer,
                    channels=channels,
                )
            notified.append(user.pk)
        except Exception as error:  # one recipient's problem must not silence the others
            logger.exception("escalation %s: notifying user %s failed", run.pk, user.pk)
            errors.append(f"user {user.pk}: {error}")
    if not recipients:
        errors.append("nobody to notify (nobody on call, empty team, inactive user)")
    following = next_after(run, step.position, step.repeat)
    wait = dt.timedelta(minutes=int(spec.get("wait_minutes", 0) or 0))
    if following is None:
        run.state = Run.EXHAUSTED
        run.save(update_fields=["state", "updated_at"])
    else:
        EscalationStep.objects.get_or_create(
            run=run,
            position=following[0],
            repeat=following[1],
            defaults={"due_at": now + wait},
        )
        if wait <= dt.timedelta(0):
            _kick(run)
    EscalationStep.objects.filter(pk=step.pk, fence=step.fence).update(
        state=Step.DONE, done_at=now, notified=notified, error="\n".join(errors)
    )


# --- cancelling and moving on ---------------------------------------------------------------


def cancel_pending(run: EscalationRun, now: dt.datetime) -> int:
    """Cancel the run's pending steps (caller holds the run's lock)."""
    from django.db.models import F

    return EscalationStep.objects.filter(run=run, state=Step.PENDING).update(
        state=Step.CANCELLED, fence=F("fence") + 1, done_at=now
    )


def advance_now(run: EscalationRun, now: dt.datetime) -> EscalationStep | None:
    """Make the next level due now (caller holds the run's lock); None if there is none.

    A pending first attempt of a level is simply brought forward; a pending repeat is
    skipped for the next level; a run with nothing pending continues after its last step.
    """
    from django.db.models import F

    pending = EscalationStep.objects.filter(run=run, state=Step.PENDING).order_by("due_at").first()
    if pending is not None and pending.repeat == 0:
        EscalationStep.objects.filter(pk=pending.pk, fence=pending.fence).update(
            due_at=now, fence=F("fence") + 1
        )
        pending.refresh_from_db()
        return pending
    if pending is not None:
        position = pending.position + 1
    else:
        last = (
            EscalationStep.objects.filter(run=run, state=Step.DONE)
            .order_by("-position", "-repeat")
            .first()
        )
        position = 0 if last is None else last.position + 1
    if position >= len(run.steps_snapshot):
        return None
    if pending is not None:
        cancel_pending(run, now)
    step, created = EscalationStep.objects.get_or_create(
        run=run, position=position, repeat=0, defaults={"due_at": now}
    )
    if not created:
        return None  # that level already ran: nothing further to escalate to
    return step


# --- the auditor -----------------------------------------------------------------------------


def audit_stalled(now: dt.datetime | None = None) -> list[int]:
    """Flag active runs with no pending or running step (they would never page anyone
    again); returns the ids flagged now. Logged, shown on the run, counted in /metrics."""
    now = now or timezone.now()
    waiting = EscalationStep.objects.filter(
        run=OuterRef("pk"), state__in=[Step.PENDING, Step.RUNNING]
    )
    stalled = list(
        EscalationRun.objects.filter(state=Run.ACTIVE, stalled_at__isnull=True)
        .exclude(Exists(waiting))
        .values_list("pk", flat=True)
    )
    flagged = []
    for run_id in stalled:
        # Conditional: a step written in between (escalate now) makes this a no-op.
        with transaction.atomic():
            changed = (
                EscalationRun.objects.filter(pk=run_id, state=Run.ACTIVE, stalled_at__isnull=True)
                .exclude(Exists(waiting))
                .update(stalled_at=now)
            )
        if changed:
            logger.error("escalation %s is active, unacknowledged and has no pending step", run_id)
            flagged.append(run_id)
    return flagged
