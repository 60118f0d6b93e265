"""Ticket services: numbering, workflow, who may do what, and that refusals write nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsassure.catalog.models import SlaMetric
from opsassure.servicedesk import services, workflow
from opsassure.servicedesk.errors import (
    ConflictError,
    InvalidInputError,
    NotPermittedError,
    TransitionNotAllowed,
)
from opsassure.servicedesk.models import SlaClock, Ticket, TicketEvent, TicketStatus
from opsassure.servicedesk.signals import ticket_event
from tests.conftest import World
from tests.servicedesk.conftest import sh

pytestmark = pytest.mark.django_db

MONDAY_9 = sh(2026, 11, 23, 9, 0)


def _ticket(sd: World, **kwargs: object) -> Ticket:
    values: dict[str, object] = {
        "actor": sd.engineer_a,
        "customer": sd.customer_a,
        "title": "打印机无法打印",
        "requester": sd.customer_a_user,
        "now": MONDAY_9,
    }
    values.update(kwargs)
    return services.create_ticket(**values)  # type: ignore[arg-type]


def _state(ticket: Ticket) -> tuple[object, ...]:
    fresh = Ticket.objects.get(pk=ticket.pk)
    return (
        fresh.status,
        fresh.responded_at,
        fresh.resolved_at,
        fresh.response_due,
        fresh.resolution_due,
        TicketEvent.objects.filter(ticket=fresh).count(),
        list(SlaClock.objects.filter(ticket=fresh).values_list("state", "fence", "due_at")),
    )


def test_create_numbers_prioritises_and_starts_clocks(sd: World) -> None:
    ticket = _ticket(sd)
    second = _ticket(sd, kind="request")
    third = _ticket(sd)
    assert ticket.number == "INC-2026-000001"
    assert second.number == "REQ-2026-000001"
    assert third.number == "INC-2026-000002"
    assert ticket.priority == 3  # impact 2 × urgency 2 in the default matrix
    assert ticket.status == TicketStatus.NEW
    assert ticket.created_at == MONDAY_9
    clocks = {c.metric: c for c in SlaClock.objects.filter(ticket=ticket)}
    assert set(clocks) == {"response", "arrival", "resolution"}
    assert clocks["response"].due_at == sh(2026, 11, 23, 11, 0)
    assert clocks["arrival"].due_at == sh(2026, 11, 24, 9, 0)
    assert clocks["resolution"].due_at == sh(2026, 11, 26, 9, 0)
    assert ticket.response_due == sh(2026, 11, 23, 11, 0)
    assert ticket.resolution_due == sh(2026, 11, 26, 9, 0)
    events = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert events == ["created"]


def test_create_costs_a_bounded_number_of_queries(sd: World) -> None:
    _ticket(sd)  # warm the calendar engine cache
    with CaptureQueriesContext(connection) as queries:
        _ticket(sd)
    assert len(queries) <= 20, [q["sql"] for q in queries]


def test_event_signal_fires_after_commit_only(sd: World, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    received: list[str] = []

    def receiver(sender: object, event: TicketEvent, **_: object) -> None:
        received.append(event.kind)

    ticket_event.connect(receiver, dispatch_uid="test-receiver")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _ticket(sd)
            assert received == []
        assert received == ["created"]
    finally:
        ticket_event.disconnect(dispatch_uid="test-receiver")


def test_customer_user_opens_for_themself_and_cannot_set_priority(sd: World) -> None:
    ticket = services.create_ticket(
        actor=sd.customer_a_user, customer=sd.customer_a, title="VPN 连不上", now=MONDAY_9
    )
    assert ticket.requester == sd.customer_a_user
    with pytest.raises(InvalidInputError) as error:
        services.create_ticket(
            actor=sd.customer_a_user, customer=sd.customer_a, title="x", priority=1
        )
    assert error.value.fields == {"priority": ["The service desk sets this."]}
    with pytest.raises(NotPermittedError):
        services.create_ticket(actor=sd.customer_a_user, customer=sd.customer_b, title="x")
    assert Ticket.objects.count() == 1


def test_create_refuses_missing_title_and_foreign_team(sd: World) -> None:
    with pytest.raises(InvalidInputError) as error:
        _ticket(sd, title="  ", team=sd.team_b)
    assert set(error.value.fields) == {"title", "team"}
    assert Ticket.objects.count() == 0
    assert SlaClock.objects.count() == 0


def test_workflow_happy_path_and_response(sd: World) -> None:
    ticket = _ticket(sd)
    ticket = services.assign(
        ticket,
        actor=sd.manager,
        team=sd.team_a,
        assignee=sd.engineer_a,
        now=sh(2026, 11, 23, 9, 5),
    )
    assert ticket.status == TicketStatus.ASSIGNED
    later = sh(2026, 11, 23, 10, 0)
    ticket = services.transition(ticket, actor=sd.engineer_a, to="in_progress", now=later)
    assert ticket.responded_at == later
    assert ticket.response_business_seconds == 3600
    assert ticket.response_wall_seconds == 3600
    response = SlaClock.objects.get(ticket=ticket, metric="response")
    assert response.state == SlaClock.State.STOPPED
    assert response.breached is False
    resolved = sh(2026, 11, 24, 10, 0)  # Mon 09–12, 14–18 + Tue 08–10 = 9 h
    ticket = services.transition(
        ticket,
        actor=sd.engineer_a,
        to="resolved",
        resolution_code="solved",
        resolution_note="换了硒鼓",
        now=resolved,
    )
    assert ticket.resolved_at == resolved
    assert ticket.resolution_business_seconds == 9 * 3600
    assert ticket.resolution_wall_seconds == 25 * 3600
    assert set(SlaClock.objects.filter(ticket=ticket).values_list("state", flat=True)) == {
        "stopped"
    }
    ticket = services.transition(
        ticket, actor=sd.customer_a_user, to="closed", now=sh(2026, 11, 24, 11, 0)
    )
    assert ticket.status == TicketStatus.CLOSED
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds == ["created", "assignment", "status", "status", "status"]


def test_invalid_transition_lists_the_allowed_ones_and_writes_nothing(sd: World) -> None:
    ticket = _ticket(sd)
    before = _state(ticket)
    with pytest.raises(TransitionNotAllowed) as error:
        services.transition(ticket, actor=sd.engineer_a, to="closed")
    assert error.value.status_code == 409
    assert error.value.allowed == ["assigned", "cancelled", "in_progress", "pending", "resolved"]
    assert error.value.as_dict()["error"]["fields"] == {"allowed": error.value.allowed}
    with pytest.raises(TransitionNotAllowed) as customer_error:
        services.transition(ticket, actor=sd.customer_a_user, to="in_progress")
    assert customer_error.value.allowed == ["cancelled"]
    assert _state(ticket) == before


def test_resolution_needs_code_and_note(sd: World) -> None:
    ticket = _ticket(sd)
    before = _state(ticket)
    with pytest.raises(InvalidInputError) as error:
        services.transition(ticket, actor=sd.engineer_a, to="resolved", resolution_note=" ")
    assert set(error.value.fields) == {"resolution_code", "resolution_note"}
    assert _state(ticket) == before


def test_auditor_and_other_customers_cannot_move_tickets(sd: World) -> None:
    ticket = _ticket(sd)
    assert workflow.actor_kind(sd.auditor) is None
    with pytest.raises(TransitionNotAllowed):
        services.transition(ticket, actor=sd.auditor, to="in_progress")
    with pytest.raises(NotPermittedError):
        services.transition(ticket, actor=sd.customer_b_user, to="cancelled")
    with pytest.raises(NotPermittedError):
        services.add_reply(ticket, actor=sd.customer_b_user, body="hi")


def test_first_public_staff_reply_is_the_response_notes_are_not(sd: World) -> None:
    ticket = _ticket(sd)
    services.add_reply(
        ticket, actor=sd.engineer_a, body="内部备注", public=False, now=sh(2026, 11, 23, 9, 30)
    )
    assert Ticket.objects.get(pk=ticket.pk).responded_at is None
    services.add_reply(
        ticket, actor=sd.customer_a_user, body="还是不行", now=sh(2026, 11, 23, 9, 40)
    )
    assert Ticket.objects.get(pk=ticket.pk).responded_at is None
    services.add_reply(ticket, actor=sd.engineer_a, body="正在处理", now=sh(2026, 11, 23, 9, 50))
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.responded_at == sh(2026, 11, 23, 9, 50)
    assert fresh.response_business_seconds == 50 * 60
    with pytest.raises(NotPermittedError):
        services.add_reply(ticket, actor=sd.customer_a_user, body="secret", public=False)


def test_customer_reply_ends_waiting_for_the_customer(sd: World) -> None:
    ticket = _ticket(sd, team=sd.team_a)
    services.transition(
        ticket,
        actor=sd.engineer_a,
        to="pending",
        pending_reason="customer",
        now=sh(2026, 11, 23, 10, 0),
    )
    services.add_reply(ticket, actor=sd.customer_a_user, body="好了", now=sh(2026, 11, 23, 15, 0))
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.status == TicketStatus.IN_PROGRESS
    assert fresh.pending_reason == ""
    resolution = SlaClock.objects.get(ticket=ticket, metric="resolution", team=None)
    # 1 h done before pending; from Mon 15:00 the other 23 h: Mon 3, Tue 8, Wed 8, Thu 4.
    assert resolution.due_at == sh(2026, 11, 26, 12, 0)


def test_reopen_within_window_keeps_banked_time(sd: World) -> None:
    ticket = _ticket(sd, team=sd.team_a)
    services.transition(
        ticket,
        actor=sd.engineer_a,
        to="resolved",
        resolution_code="solved",
        resolution_note="ok",
        now=sh(2026, 11, 23, 11, 0),
    )
    ticket = services.transition(
        ticket, actor=sd.customer_a_user, to="reopened", now=sh(2026, 11, 24, 9, 0)
    )
    assert ticket.reopen_count == 1
    assert ticket.resolved_at is None
    clock = SlaClock.objects.get(ticket=ticket, metric="resolution", team=None)
    assert clock.state == SlaClock.State.RUNNING
    assert clock.elapsed_seconds == 2 * 3600
    # 22 h left from Tue 09:00: Tue 7, Wed 8, Thu 7 → Thu 17:00.
    assert clock.due_at == sh(2026, 11, 26, 17, 0)
    assert SlaClock.objects.get(ticket=ticket, metric="response", team=None).state == "stopped"


def test_reopen_window_closes(sd: World, settings: object) -> None:
    ticket = _ticket(sd)
    services.transition(
        ticket,
        actor=sd.engineer_a,
        to="resolved",
        resolution_code="solved",
        resolution_note="ok",
        now=sh(2026, 11, 1, 11, 0),
    )
    with pytest.raises(TransitionNotAllowed) as error:
        services.transition(
            ticket, actor=sd.customer_a_user, to="reopened", now=sh(2026, 11, 9, 11, 0)
        )
    assert error.value.allowed == ["closed"]
    assert "reopen window" in error.value.message


def test_auto_close_after_n_days_unless_reopened(sd: World) -> None:
    old = _ticket(sd)
    reopened = _ticket(sd)
    fresh = _ticket(sd)
    for ticket, at in ((old, 1), (reopened, 1), (fresh, 20)):
        services.transition(
            ticket,
            actor=sd.engineer_a,
            to="resolved",
            resolution_code="solved",
            resolution_note="ok",
            now=sh(2026, 11, at, 11, 0),
        )
    services.transition(reopened, actor=sd.customer_a_user, to="reopened", now=sh(2026, 11, 3))
    now = sh(2026, 11, 24, 12, 0)
    assert services.auto_close_resolved(now) == [old.pk]
    assert services.auto_close_resolved(now) == []
    assert Ticket.objects.get(pk=old.pk).status == "closed"
    assert Ticket.objects.get(pk=old.pk).closed_at == now
    assert Ticket.objects.get(pk=reopened.pk).status == "reopened"
    assert Ticket.objects.get(pk=fresh.pk).status == "resolved"


def test_assign_checks_team_and_member(sd: World) -> None:
    ticket = _ticket(sd)
    before = _state(ticket)
    with pytest.raises(InvalidInputError):
        services.assign(ticket, actor=sd.manager, team=sd.team_b)
    with pytest.raises(InvalidInputError):
        services.assign(ticket, actor=sd.manager, team=sd.team_a, assignee=sd.customer_a_user)
    with pytest.raises(NotPermittedError):
        services.assign(ticket, actor=sd.customer_a_admin, team=sd.team_a)
    assert _state(ticket) == before
    ticket = services.assign(ticket, actor=sd.manager, assignee=sd.engineer_a)
    assert ticket.team == sd.team_a


def test_update_priority_retargets(sd: World) -> None:
    ticket = _ticket(sd)
    services.add_reply(ticket, actor=sd.engineer_a, body="收到", now=sh(2026, 11, 23, 10, 0))
    ticket = services.update_ticket(
        ticket, actor=sd.engineer_a, priority=2, now=sh(2026, 11, 23, 13, 0)
    )
    resolution = SlaClock.objects.get(ticket=ticket, metric="resolution", team=None)
    assert resolution.target_minutes == 480
    assert resolution.due_at == sh(2026, 11, 24, 9, 0)
    assert ticket.resolution_due == sh(2026, 11, 24, 9, 0)
    event = ticket.events.get(kind="field")
    assert event.data == {"changes": {"priority": [3, 2]}}
    with pytest.raises(InvalidInputError):
        services.update_ticket(ticket, actor=sd.engineer_a, number="X")


def test_closed_ticket_cannot_be_changed(sd: World) -> None:
    ticket = _ticket(sd)
    ticket = services.transition(ticket, actor=sd.customer_a_user, to="cancelled")
    assert ticket.responded_at is None  # withdrawn, never answered
    assert set(ticket.clocks.values_list("state", flat=True)) == {"stopped"}
    with pytest.raises(ConflictError):
        services.update_ticket(ticket, actor=sd.engineer_a, title="new")
    with pytest.raises(ConflictError):
        services.add_reply(ticket, actor=sd.customer_a_user, body="?")


def test_arrival_stops_the_arrival_clock(sd: World) -> None:
    ticket = _ticket(sd, now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    services.record_arrival(ticket, actor=sd.engineer_a)
    clock = SlaClock.objects.get(ticket=ticket, metric=SlaMetric.ARRIVAL)
    assert clock.state == "stopped"
    with pytest.raises(ConflictError):
        services.record_arrival(ticket, actor=sd.engineer_a)
