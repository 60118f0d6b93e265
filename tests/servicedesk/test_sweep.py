"""The breach sweep: warnings and breaches fire exactly once, with their escalation actions,
also when sweeps run twice, race on several workers, or lose to a concurrent change."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from opsassure.core.models import User
from opsassure.servicedesk import services, sla
from opsassure.servicedesk.models import (
    Escalation,
    OutboundMail,
    SlaClock,
    Ticket,
    TicketEvent,
)
from tests.conftest import World
from tests.servicedesk.conftest import sh

MONDAY_9 = sh(2026, 11, 23, 9, 0)


def _ticket(sd: World) -> Ticket:
    for user, email in ((sd.engineer_a, "eng@example.com"), (sd.manager, "boss@example.com")):
        User.objects.filter(pk=user.pk).update(email=email)
    return services.create_ticket(
        actor=sd.manager,
        customer=sd.customer_a,
        title="数据库告警",
        team=sd.team_a,
        assignee=User.objects.get(pk=sd.engineer_a.pk),
        now=MONDAY_9,
    )


def _fired(ticket: Ticket) -> list[tuple[str, str]]:
    return sorted(Escalation.objects.filter(ticket=ticket).values_list("clock__metric", "trigger"))


@pytest.mark.django_db
def test_warning_then_breach_fire_once_with_their_actions(sd: World) -> None:
    ticket = _ticket(sd)
    response = SlaClock.objects.get(ticket=ticket, metric="response")
    assert (response.warn_first_at, response.warn_second_at, response.due_at) == (
        sh(2026, 11, 23, 10, 30),
        sh(2026, 11, 23, 10, 48),
        sh(2026, 11, 23, 11, 0),
    )
    assert sla.sweep(sh(2026, 11, 23, 10, 29)).fired == []
    first = sla.sweep(sh(2026, 11, 23, 10, 31))
    assert first.fired == [(response.pk, "warning_1")]
    assert sla.sweep(sh(2026, 11, 23, 10, 31)).fired == []
    assert OutboundMail.objects.filter(ticket=ticket).count() == 1
    assert OutboundMail.objects.get(ticket=ticket).to == ["eng@example.com"]

    second = sla.sweep(sh(2026, 11, 23, 11, 1))
    assert second.fired == [(response.pk, "warning_2"), (response.pk, "breach")]
    assert sla.sweep(sh(2026, 11, 23, 11, 1)).fired == []
    assert _fired(ticket) == [
        ("response", "breach"),
        ("response", "warning_1"),
        ("response", "warning_2"),
    ]
    ticket.refresh_from_db()
    assert ticket.sla_breached is True
    assert ticket.support_level == 2  # functional escalation at the second warning
    response.refresh_from_db()
    assert response.breached is True
    assert response.breached_at == sh(2026, 11, 23, 11, 0)  # the deadline, not the sweep time
    assert response.next_check_at is None
    breach = Escalation.objects.get(ticket=ticket, trigger="breach")
    assert breach.kind == "hierarchical"
    roles = [a["role"] for a in breach.actions if a["action"] == "notify"]
    assert roles == ["assignee", "team_lead"]  # the lead is the service manager: once
    warning_2 = Escalation.objects.get(ticket=ticket, trigger="warning_2")
    assert warning_2.kind == "functional"
    assert {"action": "support_level", "from": 1, "to": 2} in warning_2.actions
    kinds = list(
        TicketEvent.objects.filter(ticket=ticket, kind__in=["sla", "escalation"]).values_list(
            "kind", "is_public"
        )
    )
    assert kinds == [("sla", False), ("escalation", False)] * 3
    # one mail per recipient and trigger: w1 → engineer; w2 → engineer + lead; breach → both
    assert OutboundMail.objects.filter(ticket=ticket).count() == 5


@pytest.mark.django_db
def test_breach_may_raise_priority(sd: World, settings: object) -> None:
    settings.OPSASSURE_SLA_BREACH_RAISES_PRIORITY = True  # type: ignore[attr-defined]
    ticket = _ticket(sd)
    sla.sweep(sh(2026, 11, 23, 11, 1))
    ticket.refresh_from_db()
    assert ticket.priority == 2
    resolution = SlaClock.objects.get(ticket=ticket, metric="resolution", team=None)
    assert resolution.target_minutes == 480  # re-targeted to P2, time done kept
    assert resolution.due_at == sh(2026, 11, 24, 9, 0)
    assert TicketEvent.objects.filter(ticket=ticket, kind="field").count() == 1


@pytest.mark.django_db
def test_breach_may_reassign_to_the_team_lead(sd: World, settings: object) -> None:
    settings.OPSASSURE_SLA_BREACH_REASSIGNS_TO_LEAD = True  # type: ignore[attr-defined]
    sd.team_a.members.add(sd.manager)  # the lead works tickets of the team
    ticket = _ticket(sd)
    sla.sweep(sh(2026, 11, 23, 10, 50))  # warnings only: still the engineer's
    ticket.refresh_from_db()
    assert ticket.assignee == sd.engineer_a
    sla.sweep(sh(2026, 11, 23, 11, 1))  # the response target (P3: 2 h) is breached
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.team) == (sd.manager, sd.team_a)
    breach = Escalation.objects.get(ticket=ticket, clock__metric="response", trigger="breach")
    assert {"action": "reassign", "from": sd.engineer_a.pk, "to": sd.manager.pk} in (breach.actions)
    [assignment] = TicketEvent.objects.filter(ticket=ticket, kind="assignment")
    assert (assignment.actor, assignment.created_at) == (None, sh(2026, 11, 23, 11, 1))
    # The resolution breach later finds the lead assigned already: no second reassignment.
    sla.sweep(sh(2026, 12, 11, 18, 0))
    assert TicketEvent.objects.filter(ticket=ticket, kind="assignment").count() == 1
    late = Escalation.objects.get(ticket=ticket, clock__metric="resolution", trigger="breach")
    assert not [a for a in late.actions if a["action"] == "reassign"]


@pytest.mark.django_db
def test_a_refused_reassignment_is_recorded_and_the_sweep_goes_on(
    sd: World, settings: object
) -> None:
    settings.OPSASSURE_SLA_BREACH_REASSIGNS_TO_LEAD = True  # type: ignore[attr-defined]
    ticket = _ticket(sd)  # the lead (manager) is not a member of team A: assign refuses
    sla.sweep(sh(2026, 11, 23, 11, 1))
    ticket.refresh_from_db()
    assert ticket.assignee == sd.engineer_a
    breach = Escalation.objects.get(ticket=ticket, clock__metric="response", trigger="breach")
    [refused] = [a for a in breach.actions if a["action"] == "reassign"]
    assert (refused["to"], bool(refused["refused"])) == (sd.manager.pk, True)
    assert ticket.sla_breached


@pytest.mark.django_db
def test_paused_and_stopped_clocks_are_not_swept(sd: World) -> None:
    ticket = _ticket(sd)
    services.transition(
        ticket,
        actor=sd.engineer_a,
        to="pending",
        pending_reason="customer",
        now=sh(2026, 11, 23, 9, 30),
    )
    result = sla.sweep(sh(2026, 11, 30, 9, 0))
    assert (result.examined, result.fired) == (0, [])
    assert Escalation.objects.count() == 0


@pytest.mark.django_db
def test_a_claim_with_a_stale_fence_does_nothing(sd: World) -> None:
    ticket = _ticket(sd)
    clock = SlaClock.objects.get(ticket=ticket, metric="response")
    stale = clock.fence
    # A competing change (here: pending and back) moves the fence between read and claim.
    services.transition(
        ticket, actor=sd.engineer_a, to="pending", pending_reason="vendor", now=MONDAY_9
    )
    services.transition(ticket, actor=sd.engineer_a, to="in_progress", now=MONDAY_9)
    result = sla.SweepResult()
    sla._claim_and_fire(clock.pk, stale, sh(2026, 11, 23, 11, 1), result)
    assert (result.lost, result.fired) == (1, [])
    assert Escalation.objects.count() == 0


@pytest.mark.django_db
def test_the_escalation_constraint_is_the_second_lock(sd: World) -> None:
    ticket = _ticket(sd)
    clock = SlaClock.objects.get(ticket=ticket, metric="response")
    from opsassure.servicedesk import escalations

    assert escalations.fire(clock, "warning_1", now=sh(2026, 11, 23, 10, 31)) is not None
    assert escalations.fire(clock, "warning_1", now=sh(2026, 11, 23, 10, 31)) is None
    assert Escalation.objects.filter(clock=clock).count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads share no in-memory SQLite database"
)
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_racing_fire_each_trigger_once(sd: World) -> None:
    tickets = [_ticket(sd) for _ in range(20)]
    now = sh(2026, 11, 23, 11, 1)
    barrier = threading.Barrier(2)
    results: list[sla.SweepResult] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(sla.sweep(now, batch_size=7))
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
    fired = [item for result in results for item in result.fired]
    assert len(fired) == len(set(fired)) == 20 * 3
    assert Escalation.objects.count() == 20 * 3
    assert Ticket.objects.filter(pk__in=[t.pk for t in tickets], sla_breached=True).count() == 20
    assert OutboundMail.objects.count() == 20 * 5


@pytest.mark.django_db
def test_a_batch_with_a_moved_clock_is_claimed_one_by_one(
    sd: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clock that moves between the batch read and the batch claim (here: its ticket goes
    pending) makes the one batch UPDATE claim too few rows: the batch is rolled back and its
    clocks are claimed one by one — the moved one is lost, the others fire once."""
    tickets = [_ticket(sd) for _ in range(3)]
    real = sla.due_triggers
    moved: list[int] = []

    def interfering(clock: SlaClock, now: object) -> list[str]:
        if not moved:
            moved.append(tickets[1].pk)
            services.transition(
                tickets[1], actor=sd.engineer_a, to="pending", pending_reason="vendor", now=MONDAY_9
            )
        return real(clock, now)  # type: ignore[arg-type]

    monkeypatch.setattr(sla, "due_triggers", interfering)
    result = sla.sweep(sh(2026, 11, 23, 10, 31))
    responses = [SlaClock.objects.get(ticket=t, metric="response", team=None).pk for t in tickets]
    assert (result.examined, result.lost) == (3, 1)
    assert result.fired == [(responses[0], "warning_1"), (responses[2], "warning_1")]
    assert _fired(tickets[1]) == []
    assert Escalation.objects.count() == OutboundMail.objects.count() == 2
    assert TicketEvent.objects.filter(kind__in=["sla", "escalation"]).count() == 4


@pytest.mark.django_db
def test_the_sweep_writes_a_batch_with_a_fixed_number_of_queries(sd: World) -> None:
    """Claim, escalations, timeline entries and mails are written in bulk: sweeping the first
    warnings of 3 or of 12 tickets costs the same queries."""
    from django.test.utils import CaptureQueriesContext

    def sweep_of(count: int, day: int) -> int:
        for _n in range(count):
            services.create_ticket(
                actor=sd.manager,
                customer=sd.customer_a,
                title="磁盘告警",
                team=sd.team_a,
                assignee=User.objects.get(pk=sd.engineer_a.pk),
                now=sh(2026, 11, day, 9, 0),
            )
        with CaptureQueriesContext(connection) as queries:
            result = sla.sweep(sh(2026, 11, day, 10, 31))
        assert len(result.fired) == count
        return len(queries)

    User.objects.filter(pk=sd.engineer_a.pk).update(email="eng@example.com")
    small = sweep_of(3, 23)
    Escalation.objects.all().delete()
    SlaClock.objects.update(state="stopped", next_check_at=None)
    assert sweep_of(12, 24) == small
    assert OutboundMail.objects.count() == 15
