"""The escalation engine: snapshot, exactly-once steps, acknowledge/resolve/escalate, auditor."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from opsassure.notify.models import Notification
from opsassure.oncall import escalation, services
from opsassure.oncall.errors import ConflictError, NotPermittedError
from opsassure.oncall.models import EscalationPolicyStep, EscalationRun, EscalationStep
from opsassure.oncall.signals import escalation_acknowledged, escalation_resolved
from opsassure.servicedesk.models import TicketEvent, TicketStatus
from tests.conftest import World
from tests.factories import _sd_ticket
from tests.oncall.conftest import Oncall

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)


def _start(oncall: Oncall, world: World, **kwargs: Any) -> EscalationRun:
    values: dict[str, Any] = {
        "policy": oncall.policy,
        "customer": world.customer_a,
        "title": "Disk full on db01",
        "severity": "critical",
    }
    values.update(kwargs)
    return services.start_escalation(**values)


def _keys() -> list[str]:
    return list(Notification.objects.order_by("pk").values_list("dedup_key", flat=True))


def _steps(run: EscalationRun) -> list[tuple[int, int, str]]:
    return list(
        EscalationStep.objects.filter(run=run)
        .order_by("position", "repeat")
        .values_list("position", "repeat", "state")
    )


def test_start_copies_the_policy_and_makes_the_first_step_due_now(
    oncall: Oncall, world: World
) -> None:
    before = timezone.now()
    run = _start(oncall, world)
    assert run.state == EscalationRun.State.ACTIVE
    assert run.policy_snapshot == {
        "policy_id": oncall.policy.pk,
        "name": "Team A paging",
        "steps": [
            {
                "target": "schedule",
                "user_id": None,
                "schedule_id": oncall.schedule.pk,
                "team_id": None,
                "channels": [],
                "wait_minutes": 5,
                "repeat": 1,
            },
            {
                "target": "user",
                "user_id": oncall.lead.pk,
                "schedule_id": None,
                "team_id": None,
                "channels": [],
                "wait_minutes": 10,
                "repeat": 0,
            },
        ],
    }
    step = EscalationStep.objects.get(run=run)
    assert (step.position, step.repeat, step.state, step.fence) == (0, 0, "pending", 0)
    assert before <= step.due_at <= timezone.now()


def test_start_is_idempotent_per_source(oncall: Oncall, world: World) -> None:
    ticket = _sd_ticket(world.customer_a, "Outage")
    first = _start(oncall, world, ticket=ticket)
    again = _start(oncall, world, ticket=ticket, title="other title")
    assert again.pk == first.pk
    assert EscalationRun.objects.count() == 1
    assert (first.source_type, first.source_id) == ("servicedesk.ticket", str(ticket.pk))
    services.resolve(first, user=oncall.lead, via="api")
    third = _start(oncall, world, ticket=ticket)
    assert third.pk != first.pk  # a resolved run does not block a new one


def test_the_whole_policy_runs_step_by_step_exactly_once(oncall: Oncall, world: World) -> None:
    run = _start(oncall, world)
    t0 = EscalationStep.objects.get(run=run).due_at
    [paged] = services.who_is_on_call(oncall.schedule, t0)
    assert escalation.sweep(t0).ran != []
    assert _keys() == [f"esc:{run.pk}:0:0:{paged.pk}:email"]
    assert escalation.sweep(t0).ran == []  # nothing due again
    assert _steps(run) == [(0, 0, "done"), (0, 1, "pending")]
    assert EscalationStep.objects.get(run=run, repeat=1).due_at == t0 + 5 * MIN
    assert escalation.sweep(t0 + 4 * MIN).ran == []
    [paged_again] = services.who_is_on_call(oncall.schedule, t0 + 5 * MIN)
    assert len(escalation.sweep(t0 + 5 * MIN).ran) == 1
    assert EscalationStep.objects.get(run=run, position=1).due_at == t0 + 10 * MIN
    assert len(escalation.sweep(t0 + 10 * MIN).ran) == 1
    assert _keys() == [
        f"esc:{run.pk}:0:0:{paged.pk}:email",
        f"esc:{run.pk}:0:1:{paged_again.pk}:email",
        f"esc:{run.pk}:1:0:{oncall.lead.pk}:email",
    ]
    run.refresh_from_db()
    assert run.state == EscalationRun.State.EXHAUSTED
    assert _steps(run) == [(0, 0, "done"), (0, 1, "done"), (1, 0, "done")]
    note = Notification.objects.get(dedup_key=f"esc:{run.pk}:1:0:{oncall.lead.pk}:email")
    assert (note.address, note.source_type, note.source_id) == (
        "lead_a@example.cn",
        "oncall.escalationrun",
        str(run.pk),
    )
    assert "/oncall/act/" in note.body
    assert "Disk full on db01" in note.subject


def test_a_policy_edit_does_not_change_a_running_escalation(oncall: Oncall, world: World) -> None:
    run = _start(oncall, world)
    EscalationPolicyStep.objects.filter(policy=oncall.policy, position=1).update(user=oncall.first)
    EscalationPolicyStep.objects.filter(policy=oncall.policy, position=0).update(repeat=0)
    t0 = EscalationStep.objects.get(run=run).due_at
    for minutes in (0, 5, 10):
        escalation.sweep(t0 + minutes * MIN)
    assert (
        Notification.objects.filter(
            dedup_key__startswith=f"esc:{run.pk}:1:0:{oncall.lead.pk}:"
        ).count()
        == 1
    )
    assert _steps(run) == [(0, 0, "done"), (0, 1, "done"), (1, 0, "done")]


def test_steps_due_while_no_worker_ran_run_at_the_next_sweep(oncall: Oncall, world: World) -> None:
    runs = [_start(oncall, world, title=f"run {n}") for n in range(5)]
    # Nothing ran (the on-commit kick and the broker are gone); a worker starts an hour later.
    later = timezone.now() + dt.timedelta(hours=1)
    result = escalation.sweep(later, batch_size=2)
    assert sorted(result.ran) == sorted(
        EscalationStep.objects.filter(run__in=runs, position=0, repeat=0).values_list(
            "pk", flat=True
        )
    )
    assert Notification.objects.count() == 5
    assert EscalationStep.objects.filter(state="pending", repeat=1).count() == 5
    assert escalation.sweep(later).ran == []


def test_a_claimed_step_is_not_run_again_with_a_stale_fence(oncall: Oncall, world: World) -> None:
    run = _start(oncall, world)
    step = EscalationStep.objects.get(run=run)
    assert escalation.run_step(step.pk, run.pk, 0, step.due_at) is True
    assert escalation.run_step(step.pk, run.pk, 0, step.due_at) is False
    assert Notification.objects.count() == 1


def test_acknowledge_stops_paging_and_is_idempotent(
    oncall: Oncall, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    received: list[tuple[int, int]] = []

    def listener(sender: Any, run: EscalationRun, user: Any, **_: Any) -> None:
        received.append((run.pk, user.pk))

    escalation_acknowledged.connect(listener)
    try:
        run = _start(oncall, world)
        escalation.sweep(timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            services.acknowledge(run, user=oncall.second, via="api")
        with django_capture_on_commit_callbacks(execute=True):
            again = services.acknowledge(run, user=oncall.first, via="api")
    finally:
        escalation_acknowledged.disconnect(listener)
    assert received == [(run.pk, oncall.second.pk)]
    assert (again.state, again.acknowledged_by_id, again.acknowledged_via) == (
        "acknowledged",
        oncall.second.pk,
        "api",
    )
    assert _steps(run) == [(0, 0, "done"), (0, 1, "cancelled")]
    assert escalation.sweep(timezone.now() + dt.timedelta(hours=1)).ran == []


def test_customer_users_cannot_respond(oncall: Oncall, world: World) -> None:
    run = _start(oncall, world)
    with pytest.raises(NotPermittedError):
        services.acknowledge(run, user=world.customer_a_user, via="api")
    run.refresh_from_db()
    assert run.state == "active"


def test_acknowledging_takes_up_the_ticket(oncall: Oncall, world: World) -> None:
    ticket = _sd_ticket(world.customer_a, "Database down")
    run = _start(oncall, world, ticket=ticket)
    services.acknowledge(run, user=oncall.first, via="link")
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.team_id, ticket.status) == (
        oncall.first.pk,
        world.team_a.pk,
        TicketStatus.IN_PROGRESS,
    )
    kinds = list(
        TicketEvent.objects.filter(ticket=ticket).order_by("pk").values_list("kind", flat=True)
    )
    assert kinds[-3:] == ["escalation", "assignment", "status"]
    note = TicketEvent.objects.filter(ticket=ticket, kind="escalation").get()
    assert (note.body, note.is_public) == (
        f"Escalation acknowledged by {oncall.first} (link).",
        False,
    )


def test_acknowledging_by_someone_outside_the_serving_teams_notes_why(
    oncall: Oncall, world: World
) -> None:
    from tests.conftest import make_user

    stranger = make_user("stranger", "engineer", teams=[world.team_b])
    ticket = _sd_ticket(world.customer_a, "Database down")
    run = _start(oncall, world, ticket=ticket)
    run = services.acknowledge(run, user=stranger, via="web")
    ticket.refresh_from_db()
    assert run.state == "acknowledged"
    assert ticket.assignee_id is None
    bodies = list(
        TicketEvent.objects.filter(ticket=ticket, kind="escalation")
        .order_by("pk")
        .values_list("body", flat=True)
    )
    assert bodies[0] == f"Escalation acknowledged by {stranger} (web)."
    assert bodies[1].startswith(f"The ticket could not be assigned to {stranger}: ")


def test_resolve_cancels_and_signals(
    oncall: Oncall, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    received: list[int] = []

    def listener(sender: Any, run: EscalationRun, user: Any, **_: Any) -> None:
        received.append(run.pk)

    escalation_resolved.connect(listener)
    try:
        run = _start(oncall, world)
        with django_capture_on_commit_callbacks(execute=True):
            resolved = services.resolve(run, user=None, via="system")
    finally:
        escalation_resolved.disconnect(listener)
    assert received == [run.pk]
    assert (resolved.state, resolved.resolved_by_id, resolved.resolved_via) == (
        "resolved",
        None,
        "system",
    )
    assert _steps(run) == [(0, 0, "cancelled")]


def test_escalate_now_skips_the_repeat_to_the_next_level(oncall: Oncall, world: World) -> None:
    run = _start(oncall, world)
    t0 = timezone.now()
    escalation.sweep(t0)
    services.escalate_now(run, user=oncall.first)
    assert _steps(run) == [(0, 0, "done"), (0, 1, "cancelled"), (1, 0, "pending")]
    assert len(escalation.sweep(timezone.now()).ran) == 1
    assert Notification.objects.filter(user=oncall.lead).count() == 1
    run.refresh_from_db()
    assert run.state == "exhausted"
    with pytest.raises(ConflictError):
        services.escalate_now(run, user=oncall.first)


def test_escalate_now_brings_a_first_attempt_forward(oncall: Oncall, world: World) -> None:
    run = _start(oncall, world)
    step = EscalationStep.objects.get(run=run)
    EscalationStep.objects.filter(pk=step.pk).update(due_at=timezone.now() + dt.timedelta(hours=1))
    services.escalate_now(run, user=oncall.first)
    step.refresh_from_db()
    assert (step.state, step.fence) == ("pending", 1)
    assert step.due_at <= timezone.now()


def test_auditor_flags_active_runs_without_a_pending_step(oncall: Oncall, world: World) -> None:
    healthy = _start(oncall, world, title="healthy")
    stalled = _start(oncall, world, title="stalled")
    EscalationStep.objects.filter(run=stalled).delete()
    acked = _start(oncall, world, title="acked")
    services.acknowledge(acked, user=oncall.first, via="api")
    now = timezone.now()
    assert escalation.audit_stalled(now) == [stalled.pk]
    assert escalation.audit_stalled(now) == []  # flagged once
    stalled.refresh_from_db()
    healthy.refresh_from_db()
    assert (stalled.stalled_at, healthy.stalled_at) == (now, None)
    from opsassure.oncall.metrics import OncallCollector

    [family] = [
        f for f in OncallCollector().collect() if f.name == "opsassure_oncall_stalled_escalations"
    ]
    assert [sample.value for sample in family.samples] == [1.0]


def test_a_policy_without_steps_is_exhausted_at_once(oncall: Oncall, world: World) -> None:
    from opsassure.oncall.models import EscalationPolicy

    empty = EscalationPolicy.objects.create(name="empty")
    run = _start(oncall, world, policy=empty)
    assert (run.state, EscalationStep.objects.filter(run=run).count()) == ("exhausted", 0)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs OPSASSURE_TEST_DATABASE_URL: threads share no in-memory SQLite database",
)
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_racing_run_each_step_exactly_once(
    oncall: Oncall, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No on-commit kick (eager Celery would run the steps at once): only the sweeps race.
    monkeypatch.setattr(escalation, "_kick", lambda run: None)
    runs = [_start(oncall, world, title=f"race {n}") for n in range(30)]
    now = timezone.now() + MIN
    barrier = threading.Barrier(2)
    results: list[escalation.SweepResult] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(escalation.sweep(now, batch_size=7))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    ran = [step for result in results for step in result.ran]
    assert len(ran) == len(set(ran))
    # A step skipped because the other worker held its run is picked up by the next sweep.
    ran += escalation.sweep(now).ran
    assert len(ran) == len(set(ran)) == 30
    assert Notification.objects.count() == 30
    assert EscalationStep.objects.filter(run__in=runs, state="done").count() == 30
    assert EscalationStep.objects.filter(run__in=runs, state="pending", repeat=1).count() == 30


def test_a_worker_dying_mid_step_leaves_it_pending_for_the_next_sweep(
    oncall: Oncall, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _start(oncall, world)
    now = timezone.now()

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("worker killed")

    with monkeypatch.context() as patch:
        patch.setattr(escalation, "next_after", crash)
        assert escalation.sweep(now).ran == []
    # Everything the dead worker did was rolled back: no message, the step is pending.
    assert Notification.objects.count() == 0
    assert _steps(run) == [(0, 0, "pending")]
    assert EscalationStep.objects.get(run=run).fence == 0
    assert len(escalation.sweep(now).ran) == 1
    assert Notification.objects.count() == 1
    assert _steps(run) == [(0, 0, "done"), (0, 1, "pending")]


def test_the_message_lists_the_callers_summaries(oncall: Oncall, world: World) -> None:
    context = {"summaries": ["db01 /data 97%", "db01 inode 91%"], "url": "http://x.example/g/1"}
    run = _start(oncall, world, context=context)
    escalation.sweep(timezone.now())
    body = Notification.objects.get(source_id=str(run.pk)).body
    assert "- db01 /data 97%\n- db01 inode 91%\n" in body
    assert ": http://x.example/g/1\n" in body


def test_an_exhausted_run_with_a_newer_open_one_is_a_conflict(oncall: Oncall, world: World) -> None:
    ticket = _sd_ticket(world.customer_a, "Flapping")
    old = _start(oncall, world, ticket=ticket)
    EscalationRun.objects.filter(pk=old.pk).update(state="exhausted")
    newer = _start(oncall, world, ticket=ticket)
    assert newer.pk != old.pk
    with pytest.raises(ConflictError):
        services.acknowledge(old, user=oncall.first, via="api")
    old.refresh_from_db()
    assert (old.state, old.acknowledged_by_id) == ("exhausted", None)
    assert services.acknowledge(newer, user=oncall.first, via="api").state == "acknowledged"
