"""SLA and OLA clocks of a ticket: start, pause, resume, stop, retarget — and the sweep.

Called by ``servicedesk.services`` only (inside its transaction); nothing here decides a
workflow rule. The rules this module keeps:

- A clock measures business time of its calendar. ``elapsed_seconds`` is what was banked;
  while running, the time since ``running_since`` comes on top. Every state change banks
  first, so pausing, resuming and retargeting never lose or double-count time.
- ``due_at``, ``warn_first_at``, ``warn_second_at`` and ``next_check_at`` are computed when
  the clock starts, resumes or is retargeted, and stored. A calendar edit later changes
  nothing on its own: deadlines are recomputed only on such an explicit event.
- Every write bumps ``fence``. The sweep claims a clock with ``UPDATE … WHERE fence = read``
  and acts only if it changed exactly one row, so N workers fire each warning and each
  breach exactly once (the ``Escalation`` unique constraint is the second lock on the door).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.db.models.base import ModelState
from django.utils import timezone

from opsassure.catalog.business_time import BusinessCalendar
from opsassure.catalog.models import Service, ServiceCalendar, SlaMetric, SlaPolicy
from opsassure.catalog.policies import Targets, targets_for
from opsassure.catalog.queries import business_calendar
from opsassure.servicedesk import bulk
from opsassure.servicedesk.models import SlaClock, Ticket

logger = logging.getLogger(__name__)

WARNING_1 = "warning_1"
WARNING_2 = "warning_2"
BREACH = "breach"
TRIGGERS = (WARNING_1, WARNING_2, BREACH)
DEFAULT_WARN_PERCENTS = (75, 90)
# Clock fields a state change writes (the sweep writes fewer, through its conditional UPDATE).
_STATE_FIELDS = [
    "state",
    "calendar",
    "calendar_revision",
    "target_minutes",
    "elapsed_seconds",
    "wall_seconds",
    "running_since",
    "due_at",
    "warn_first_at",
    "warn_second_at",
    "warnings_sent",
    "next_check_at",
    "breached",
    "breached_at",
    "stopped_at",
    "fence",
]


# --- business-time arithmetic --------------------------------------------------------------


def add_business_seconds(engine: BusinessCalendar, start: dt.datetime, seconds: int) -> dt.datetime:
    """The instant at which ``seconds`` of business time have passed since ``start``."""
    return engine.add_seconds(start, [seconds])[0]


# --- targets ----------------------------------------------------------------------------------


def ticket_targets(ticket: Ticket, policy: SlaPolicy, team_ids: Iterable[int] = ()) -> Targets:
    """``targets_for`` the ticket's priority, without an arrival clock for a remote service.

    A service delivered remotely only (``Service.DeliveryMode.REMOTE``) never sends anyone on
    site, so its tickets get no on-site arrival clock even when the policy's priority has an
    arrival target; otherwise every remote fix would count as a missed arrival.
    """
    targets = targets_for(policy, ticket.priority, team_ids)
    service = ticket.service if ticket.service_id is not None else None
    if service is not None and service.delivery_mode == Service.DeliveryMode.REMOTE:
        targets.sla.pop(str(SlaMetric.ARRIVAL), None)
    return targets


def warn_percents(policy: SlaPolicy | None) -> tuple[int, int]:
    if policy is None:
        return DEFAULT_WARN_PERCENTS
    return (policy.warn_percent_first, policy.warn_percent_second)


# --- one clock ------------------------------------------------------------------------------


def _engine(clock: SlaClock) -> BusinessCalendar:
    return business_calendar(clock.calendar)


def _bank(clock: SlaClock, now: dt.datetime) -> None:
    """Add the business (and wall) time since ``running_since`` to the banked totals."""
    if clock.state != SlaClock.State.RUNNING or clock.running_since is None:
        return
    if now > clock.running_since:
        clock.elapsed_seconds += _engine(clock).elapsed(clock.running_since, now)
        clock.wall_seconds += int((now - clock.running_since).total_seconds())
        clock.running_since = now


def _next_check(clock: SlaClock) -> dt.datetime | None:
    candidates = []
    if clock.warnings_sent < 1 and clock.warn_first_at is not None:
        candidates.append(clock.warn_first_at)
    if clock.warnings_sent < 2 and clock.warn_second_at is not None:
        candidates.append(clock.warn_second_at)
    if not clock.breached and clock.due_at is not None:
        candidates.append(clock.due_at)
    return min(candidates, default=None)


def _schedule(clock: SlaClock, percents: tuple[int, int]) -> None:
    """Deadline, warning instants and next check of a running clock, from its banked time."""
    since = clock.running_since
    assert since is not None
    clock.calendar_revision = clock.calendar.revision
    target = clock.target_minutes * 60
    done = clock.elapsed_seconds
    clock.due_at, clock.warn_first_at, clock.warn_second_at = _engine(clock).add_seconds(
        since,
        [target - done, target * percents[0] // 100 - done, target * percents[1] // 100 - done],
    )
    clock.next_check_at = _next_check(clock)


def _clear_schedule(clock: SlaClock) -> None:
    clock.running_since = None
    clock.warn_first_at = None
    clock.warn_second_at = None
    clock.next_check_at = None


def _save(clocks: Sequence[SlaClock]) -> None:
    for clock in clocks:
        clock.fence += 1
    if clocks:
        SlaClock.objects.bulk_update(clocks, _STATE_FIELDS)


def _sync_ticket(ticket: Ticket, clocks: Iterable[SlaClock]) -> None:
    """Denormalise the SLA (not OLA) deadlines onto the ticket (the caller saves it)."""
    for clock in clocks:
        if clock.team_id is not None:
            continue
        if clock.metric == SlaMetric.RESPONSE:
            ticket.response_due = clock.due_at
        elif clock.metric == SlaMetric.RESOLUTION:
            ticket.resolution_due = clock.due_at


def clocks_of(ticket: Ticket, *, states: Iterable[str] | None = None) -> list[SlaClock]:
    """The ticket's clocks (locked for update on PostgreSQL, in pk order), calendars joined."""
    queryset = SlaClock.objects.select_related("calendar").filter(ticket=ticket)
    if states is not None:
        queryset = queryset.filter(state__in=list(states))
    return list(queryset.select_for_update(of=("self",)).order_by("pk"))


def _new_clock(
    ticket: Ticket,
    policy: SlaPolicy,
    metric: str,
    minutes: int,
    now: dt.datetime,
    percents: tuple[int, int],
    *,
    team_id: int | None = None,
    banked: tuple[int, int] = (0, 0),
) -> SlaClock:
    clock = SlaClock(
        ticket=ticket,
        metric=metric,
        team_id=team_id,
        state=SlaClock.State.RUNNING,
        calendar=policy.calendar,
        target_minutes=minutes,
        started_at=now,
        elapsed_seconds=banked[0],
        wall_seconds=banked[1],
        running_since=now,
    )
    _schedule(clock, percents)
    return clock


# --- what the services call ---------------------------------------------------------------


# Planning a new ticket's clocks is the hot path of ticket creation and of history imports
# (bench/tickets.py: ≥ 20,000 tickets/s on one core). It reads the policy's targets once per
# (priority, teams, remote) for a policy instance (memo on the instance, so a fresh policy
# read — every request — sees current targets), walks the calendar once for all deadlines
# and warnings of all clocks (one position lookup, warnings are fractions of the target),
# and builds the clock rows without the per-field model machinery.
_TARGETS_MEMO = "_sd_planned_targets"


def _planned_targets(ticket: Ticket, policy: SlaPolicy, team_ids: list[int]) -> Targets:
    """``ticket_targets``, read once per policy instance and (priority, teams, remote)."""
    remote = False
    if ticket.service_id is not None:
        service = ticket.service
        remote = service is not None and service.delivery_mode == Service.DeliveryMode.REMOTE
    memo: dict[tuple[int, tuple[int, ...], bool], Targets] | None = getattr(
        policy, _TARGETS_MEMO, None
    )
    if memo is None:
        memo = {}
        setattr(policy, _TARGETS_MEMO, memo)
    key = (ticket.priority, tuple(team_ids), remote)
    targets = memo.get(key)
    if targets is None:
        targets = ticket_targets(ticket, policy, team_ids)
        memo[key] = targets
    return targets


def plan_deadlines(
    engine: BusinessCalendar,
    start: dt.datetime,
    minutes: Sequence[int],
    percents: tuple[int, int],
) -> list[tuple[dt.datetime, dt.datetime, dt.datetime]]:
    """(due, first warning, second warning) of clocks of ``minutes`` started at ``start``.

    One calendar walk for all of them — the same instants ``_schedule`` gives a fresh clock.
    """
    seconds: list[int] = []
    for value in minutes:
        target = value * 60
        seconds += (target, target * percents[0] // 100, target * percents[1] // 100)
    instants = engine.add_seconds(start, seconds)
    return [(instants[i], instants[i + 1], instants[i + 2]) for i in range(0, len(instants), 3)]


def _fresh_clock(
    ticket: Ticket,
    calendar: ServiceCalendar,
    metric: str,
    team_id: int | None,
    minutes: int,
    now: dt.datetime,
    deadlines: tuple[dt.datetime, dt.datetime, dt.datetime],
) -> SlaClock:
    """A running clock with nothing banked and its schedule (what ``_new_clock`` gives)."""
    due, first, second = deadlines
    # What ``Model.__init__`` leaves behind, without its per-field descriptor calls: the
    # model has no custom __init__ and no init signals, and every concrete field is set
    # (tests/servicedesk/test_sla.py checks both). The ticket may be unsaved yet: it is
    # cached as the relation, so ``bulk_create`` takes its primary key once it has one.
    clock = SlaClock.__new__(SlaClock)
    state = clock._state = ModelState()
    state.fields_cache = {"ticket": ticket, "calendar": calendar}
    clock.__dict__.update(
        id=None,
        ticket_id=ticket.pk,
        metric=metric,
        team_id=team_id,
        state=SlaClock.State.RUNNING,
        calendar_id=calendar.pk,
        calendar_revision=calendar.revision,
        target_minutes=minutes,
        started_at=now,
        elapsed_seconds=0,
        wall_seconds=0,
        running_since=now,
        due_at=due,
        warn_first_at=first,
        warn_second_at=second,
        warnings_sent=0,
        next_check_at=min(first, second, due),
        breached=False,
        breached_at=None,
        stopped_at=None,
        fence=0,
    )
    return clock


def plan_clocks(ticket: Ticket, *, now: dt.datetime) -> list[SlaClock]:
    """The clocks a new ticket starts with, unsaved; sets the deadlines on ``ticket``.

    Response and resolution always, on-site arrival only if the priority has an arrival
    target, and the OLA clocks of the ticket's team. No policy, no clocks ("no SLA"). Costs
    two queries (targets; none for a policy instance that planned this priority before)
    plus the cached calendar engine.
    """
    policy = ticket.sla_policy
    if policy is None:
        return []
    targets = _planned_targets(ticket, policy, [ticket.team_id] if ticket.team_id else [])
    planned: list[tuple[str, int | None, int]] = [
        (metric, None, minutes) for metric, minutes in targets.sla.items()
    ]
    planned += [(metric, team_id, minutes) for (team_id, metric), minutes in targets.ola.items()]
    calendar = policy.calendar
    deadlines = plan_deadlines(
        business_calendar(calendar),
        now,
        [minutes for _m, _t, minutes in planned],
        (policy.warn_percent_first, policy.warn_percent_second),
    )
    clocks = [
        _fresh_clock(ticket, calendar, metric, team_id, minutes, now, schedule)
        for (metric, team_id, minutes), schedule in zip(planned, deadlines, strict=True)
    ]
    _sync_ticket(ticket, clocks)
    return clocks


def start_clocks(ticket: Ticket, *, now: dt.datetime) -> list[SlaClock]:
    """``plan_clocks`` for a saved ticket, and save them (the caller saves the ticket)."""
    clocks = plan_clocks(ticket, now=now)
    SlaClock.objects.bulk_create(clocks)
    return clocks


def pause(ticket: Ticket, *, now: dt.datetime) -> list[SlaClock]:
    """Pending: bank the business time of every running clock and clear its deadline."""
    clocks = clocks_of(ticket, states=[SlaClock.State.RUNNING])
    for clock in clocks:
        _bank(clock, now)
        clock.state = SlaClock.State.PAUSED
        clock.due_at = None
        _clear_schedule(clock)
    _save(clocks)
    _sync_ticket(ticket, clocks)
    return clocks


def resume(ticket: Ticket, *, now: dt.datetime) -> list[SlaClock]:
    """Back from pending: paused clocks run again; deadlines from the banked time."""
    clocks = clocks_of(ticket, states=[SlaClock.State.PAUSED])
    percents = warn_percents(ticket.sla_policy)
    for clock in clocks:
        clock.state = SlaClock.State.RUNNING
        clock.running_since = now
        _schedule(clock, percents)
    _save(clocks)
    _sync_ticket(ticket, clocks)
    return clocks


def stop(ticket: Ticket, metric: str, *, now: dt.datetime) -> SlaClock | None:
    """Stop the ``metric`` clocks (SLA and OLA); returns the SLA clock (None if none ran).

    A clock stopped past its target is breached even if no sweep saw it: the stop decides.
    """
    clocks = [
        clock
        for clock in clocks_of(ticket, states=[SlaClock.State.RUNNING, SlaClock.State.PAUSED])
        if clock.metric == metric
    ]
    for clock in clocks:
        _bank(clock, now)
        clock.state = SlaClock.State.STOPPED
        clock.stopped_at = now
        _clear_schedule(clock)
        if not clock.breached and clock.elapsed_seconds > clock.target_minutes * 60:
            clock.breached = True
            clock.breached_at = clock.due_at or now
    _save(clocks)
    if any(clock.breached and clock.team_id is None for clock in clocks):
        # The queue's "SLA breached" flag, also when the stop (not a sweep) found the breach.
        Ticket.objects.filter(pk=ticket.pk, sla_breached=False).update(sla_breached=True)
        ticket.sla_breached = True
    return next((clock for clock in clocks if clock.team_id is None), None)


def stop_all(ticket: Ticket, *, now: dt.datetime) -> dict[str, SlaClock | None]:
    """Stop every clock still running or paused (resolution, cancellation)."""
    return {str(metric): stop(ticket, metric, now=now) for metric in SlaMetric}


def restart(ticket: Ticket, metric: str, *, now: dt.datetime) -> list[SlaClock]:
    """Run stopped ``metric`` clocks again (reopen): banked time kept, breach flag kept."""
    clocks = [
        clock
        for clock in clocks_of(ticket, states=[SlaClock.State.STOPPED])
        if clock.metric == metric and (clock.team_id is None or clock.team_id == ticket.team_id)
    ]
    percents = warn_percents(ticket.sla_policy)
    for clock in clocks:
        clock.state = SlaClock.State.RUNNING
        clock.stopped_at = None
        clock.running_since = now
        _schedule(clock, percents)
    _save(clocks)
    _sync_ticket(ticket, clocks)
    return clocks


def retarget(ticket: Ticket, *, now: dt.datetime) -> list[SlaClock]:
    """Priority or policy changed: keep the business time done, apply the new targets.

    Running clocks bank their time in the old calendar, then take the new target and the new
    policy's calendar and get new deadlines; paused clocks only take the new target (their
    deadline is set on resume); stopped clocks are history and stay as they are. An arrival
    clock appears (with the resolution clock's banked time) or disappears with the target.
    Warnings already sent are not sent again; a breach stays a breach.
    """
    policy = ticket.sla_policy
    clocks = clocks_of(ticket)
    live = [clock for clock in clocks if clock.state != SlaClock.State.STOPPED]
    if policy is None:
        # No policy any more: the clocks stop measuring (nothing is due).
        for clock in live:
            _bank(clock, now)
            clock.state = SlaClock.State.STOPPED
            clock.stopped_at = now
            clock.due_at = None
            _clear_schedule(clock)
        _save(live)
        _sync_ticket(ticket, live)
        return live
    team_ids = {clock.team_id for clock in clocks if clock.team_id is not None}
    targets = ticket_targets(ticket, policy, team_ids)
    percents = warn_percents(policy)
    changed: list[SlaClock] = []
    removed: list[SlaClock] = []
    for clock in live:
        minutes = (
            targets.sla.get(clock.metric)
            if clock.team_id is None
            else targets.ola.get((clock.team_id, clock.metric))
        )
        _bank(clock, now)
        if minutes is None:
            if clock.breached or clock.escalations.exists():
                clock.state = SlaClock.State.STOPPED
                clock.stopped_at = now
                clock.due_at = None
                _clear_schedule(clock)
                changed.append(clock)
            else:
                removed.append(clock)
            continue
        clock.target_minutes = minutes
        clock.calendar = policy.calendar
        if clock.state == SlaClock.State.RUNNING:
            _schedule(clock, percents)
        changed.append(clock)
    if removed:
        SlaClock.objects.filter(pk__in=[clock.pk for clock in removed]).delete()
    _save(changed)
    created = _add_missing_sla_clocks(ticket, policy, targets, clocks, now, percents)
    _sync_ticket(ticket, changed + created)
    if any(c.metric == SlaMetric.RESPONSE and c.team_id is None for c in removed):
        ticket.response_due = None
    return changed + created


def _add_missing_sla_clocks(
    ticket: Ticket,
    policy: SlaPolicy,
    targets: Targets,
    clocks: Sequence[SlaClock],
    now: dt.datetime,
    percents: tuple[int, int],
) -> list[SlaClock]:
    """A metric that gained a target mid-flight starts with the resolution clock's time done.

    Only arrival can be missing (response and resolution targets are required), and only
    while the ticket is open: the resolution clock runs from creation with the same pauses.
    """
    existing = {clock.metric for clock in clocks if clock.team_id is None}
    reference = next(
        (c for c in clocks if c.team_id is None and c.metric == SlaMetric.RESOLUTION), None
    )
    created = []
    for metric, minutes in targets.sla.items():
        if metric in existing or reference is None:
            continue
        if reference.state == SlaClock.State.STOPPED:
            continue
        clock = _new_clock(
            ticket,
            policy,
            metric,
            minutes,
            now,
            percents,
            banked=(reference.elapsed_seconds, reference.wall_seconds),
        )
        clock.started_at = reference.started_at
        if reference.state == SlaClock.State.PAUSED:
            clock.state = SlaClock.State.PAUSED
            clock.due_at = None
            _clear_schedule(clock)
        created.append(clock)
    SlaClock.objects.bulk_create(created)
    return created


def switch_team(ticket: Ticket, old_team_id: int | None, *, now: dt.datetime) -> list[SlaClock]:
    """Reassignment: the old team's OLA clocks stop, the new team's start (or run again)."""
    policy = ticket.sla_policy
    new_team_id = ticket.team_id
    if policy is None or old_team_id == new_team_id:
        return []
    clocks = clocks_of(ticket)
    changed: list[SlaClock] = []
    for clock in clocks:
        if clock.team_id is None or clock.team_id == new_team_id:
            continue
        if clock.state != SlaClock.State.STOPPED:
            _bank(clock, now)
            clock.state = SlaClock.State.STOPPED
            clock.stopped_at = now
            _clear_schedule(clock)
            changed.append(clock)
    if new_team_id is None:
        _save(changed)
        return changed
    targets = ticket_targets(ticket, policy, [new_team_id])
    percents = warn_percents(policy)
    sla_state = {c.metric: c.state for c in clocks if c.team_id is None}
    created: list[SlaClock] = []
    for (team_id, metric), minutes in targets.ola.items():
        if sla_state.get(metric) == SlaClock.State.STOPPED:
            continue  # e.g. already responded: no response OLA for the new team
        previous = next((c for c in clocks if c.team_id == team_id and c.metric == metric), None)
        paused = sla_state.get(metric) == SlaClock.State.PAUSED
        if previous is not None:
            previous.target_minutes = minutes
            previous.stopped_at = None
            previous.calendar = policy.calendar
            if paused:
                previous.state = SlaClock.State.PAUSED
                previous.due_at = None
                _clear_schedule(previous)
            else:
                previous.state = SlaClock.State.RUNNING
                previous.running_since = now
                _schedule(previous, percents)
            changed.append(previous)
            continue
        clock = _new_clock(ticket, policy, metric, minutes, now, percents, team_id=team_id)
        if paused:
            clock.state = SlaClock.State.PAUSED
            clock.due_at = None
            _clear_schedule(clock)
        created.append(clock)
    _save(changed)
    SlaClock.objects.bulk_create(created)
    return changed + created


def business_seconds(clock: SlaClock, now: dt.datetime) -> int:
    """Business seconds done so far (banked plus the running stretch), without writing."""
    done = clock.elapsed_seconds
    since = clock.running_since
    if clock.state == SlaClock.State.RUNNING and since is not None and now > since:
        done += _engine(clock).elapsed(since, now)
    return done


# --- the sweep ------------------------------------------------------------------------------


@dataclass
class SweepResult:
    examined: int = 0
    fired: list[tuple[int, str]] = field(default_factory=list)  # (clock id, trigger)
    lost: int = 0  # clocks another worker (or a state change) claimed first


def due_triggers(clock: SlaClock, now: dt.datetime) -> list[str]:
    """The triggers of ``clock`` due at ``now`` that have not fired yet, in order."""
    fired = []
    if clock.warnings_sent < 1 and clock.warn_first_at is not None and clock.warn_first_at <= now:
        fired.append(WARNING_1)
    if clock.warnings_sent < 2 and clock.warn_second_at is not None and clock.warn_second_at <= now:
        fired.append(WARNING_2)
    if not clock.breached and clock.due_at is not None and clock.due_at <= now:
        fired.append(BREACH)
    return fired


def _claim_and_fire(clock_id: int, fence: int, now: dt.datetime, result: SweepResult) -> None:
    from opsassure.servicedesk import escalations  # escalations acts through the services

    with transaction.atomic():
        clock = (
            SlaClock.objects.select_related("calendar", "ticket")
            .filter(pk=clock_id, fence=fence, state=SlaClock.State.RUNNING)
            .first()
        )
        if clock is None:
            result.lost += 1
            return
        triggers = due_triggers(clock, now)
        if WARNING_2 in triggers or BREACH in triggers:
            clock.warnings_sent = 2
        elif WARNING_1 in triggers:
            clock.warnings_sent = max(clock.warnings_sent, 1)
        if BREACH in triggers:
            clock.breached = True
            clock.breached_at = clock.due_at
        next_check = _next_check(clock)
        claimed = SlaClock.objects.filter(pk=clock_id, fence=fence).update(
            fence=F("fence") + 1,
            warnings_sent=clock.warnings_sent,
            breached=clock.breached,
            breached_at=clock.breached_at,
            next_check_at=next_check,
        )
        if claimed != 1:
            result.lost += 1
            return
        clock.fence = fence + 1
        clock.next_check_at = next_check
        for trigger in triggers:
            if escalations.fire(clock, trigger, now=now):
                result.fired.append((clock_id, trigger))


class _BatchLost(Exception):  # noqa: N818 - a signal, not an error
    """Some clock of a batch moved on between read and claim."""


_SWEPT_FIELDS = ("warnings_sent", "breached", "breached_at", "next_check_at")


def _claim_batch(clocks: Sequence[SlaClock]) -> int:
    """One conditional UPDATE for the batch: each clock's new sweep fields and ``fence + 1``
    where ``(id, fence)`` is still what was read (and the clock still runs)."""
    return bulk.update_rows(
        SlaClock, clocks, _SWEPT_FIELDS, fenced=True, extra={"state": SlaClock.State.RUNNING}
    )


def _sweep_batch(clocks: Sequence[SlaClock], now: dt.datetime, result: SweepResult) -> None:
    """Claim a batch of due clocks and fire their triggers, in one transaction and in bulk:
    one claim UPDATE for the whole batch, then the escalations written by
    ``escalations.fire_many``. Raises ``_BatchLost`` (nothing written) if any clock's fence
    moved: the caller then takes the clocks one by one."""
    from opsassure.servicedesk import escalations  # escalations acts through the services

    items: list[tuple[SlaClock, str]] = []
    for clock in clocks:
        triggers = due_triggers(clock, now)
        if WARNING_2 in triggers or BREACH in triggers:
            clock.warnings_sent = 2
        elif WARNING_1 in triggers:
            clock.warnings_sent = max(clock.warnings_sent, 1)
        if BREACH in triggers:
            clock.breached = True
            clock.breached_at = clock.due_at
        clock.next_check_at = _next_check(clock)
        items += [(clock, trigger) for trigger in triggers]
    with transaction.atomic():
        if _claim_batch(clocks) != len(clocks):
            raise _BatchLost
        for clock in clocks:
            clock.fence += 1
        for escalation in escalations.fire_many(items, now=now):
            assert escalation.clock_id is not None
            result.fired.append((escalation.clock_id, escalation.trigger))


def sweep(now: dt.datetime | None = None, *, batch_size: int = 500) -> SweepResult:
    """Fire every warning and breach due by ``now``, exactly once, on any number of workers.

    Reads candidate clocks through the partial ``next_check_at`` index of running clocks,
    then claims a batch in one conditional UPDATE on ``fence`` and writes its escalations
    in bulk. A batch in which some clock's fence moved (another worker, or a pause/stop in
    between) is rolled back and its clocks claimed one by one: those that moved are left to
    whoever moved them. Should a batch fail otherwise, its clocks are also retried one by
    one, so one broken clock does not stop the sweep for the others.
    """
    now = now or timezone.now()
    result = SweepResult()
    # The due ids first, through the index (an ORDER BY id would tempt SQLite into walking
    # the whole table in id order); each clock is then looked at once per run.
    due = sorted(
        SlaClock.objects.filter(state=SlaClock.State.RUNNING, next_check_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    for first in range(0, len(due), batch_size):
        clocks = list(
            SlaClock.objects.select_related("team")
            .filter(
                pk__in=due[first : first + batch_size],
                state=SlaClock.State.RUNNING,
                next_check_at__lte=now,
            )
            .order_by("pk")
        )
        if not clocks:
            continue
        result.examined += len(clocks)
        rows = [(clock.pk, clock.fence) for clock in clocks]
        fired = len(result.fired)
        try:
            _sweep_batch(clocks, now, result)
        except Exception as error:
            if not isinstance(error, _BatchLost):
                logger.exception("SLA sweep batch failed; retrying its clocks one by one")
            del result.fired[fired:]
            for clock_id, fence in rows:
                try:
                    _claim_and_fire(clock_id, fence, now, result)
                except Exception:  # one broken clock must not stop the sweep
                    logger.exception("SLA sweep failed on clock %s", clock_id)
    return result
