"""A small, hand-computed ticket set for the KPI tests, written straight to the tables.

Period under test: November 2026 in Asia/Shanghai, i.e. [2026-10-31 16:00Z, 2026-11-30 16:00Z).
"Now" for the backlog: 2026-11-21 00:00Z. Expected figures are worked out in test_kpi.py.

id  cust type prio created(UTC) status      resolved(UTC) notes
T1  A    inc  P2   11-03 02:00  closed      11-04 02:00   all met, rating 5, dispatched,
                                                          an OLA breach (ignored)
T2  A    inc  P1   11-05 02:00  resolved    11-06 02:00   response + resolution breached,
                                                          arrival met, reopened once, rating 2
T3  A    req  P3   11-10 02:00  closed      11-12 02:00   met, level 2, rating 4, by a_user
T4  A    inc  P3   11-12 02:00  in_progress —             response met, resolution running
T5  A    inc  P2   11-15 00:00  pending     —             response breached (running)
T6  A    inc  P3   11-20 02:00  cancelled   —             response breached: excluded
T7  A    inc  P4   10-20 02:00  closed      11-02 02:00   received in October, handed over,
                                                          rating 3
T9  A    inc  P3   10-31 20:00  new         —             11-01 04:00 in Shanghai: November
T10 A    inc  P3   10-31 15:30  closed      10-31 15:45   10-31 23:30 in Shanghai: October
T11 A    inc  P4   11-20 20:00  new         —             backlog under one day
TB  B    inc  P1   11-03 02:00  closed      11-04 02:00   customer B: never counted for A
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from opsassure.catalog.models import ServiceCalendar
from opsassure.core.models import Customer
from opsassure.servicedesk.models import Rating, SlaClock, Ticket, TicketEvent
from tests.conftest import World

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 21, tzinfo=UTC)


def at(month: int, day: int, hour: int = 2, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class KpiWorld:
    world: World
    tickets: dict[str, Ticket]


def calendar() -> ServiceCalendar:
    found = ServiceCalendar.objects.filter(customer__isnull=True, code="kpi-test").first()
    return found or ServiceCalendar.objects.create(
        code="kpi-test", name="KPI test 7x24", time_zone="Asia/Shanghai"
    )


_counter = [0]


def make_ticket(customer: Customer, created: dt.datetime, **fields: Any) -> Ticket:
    _counter[0] += 1
    prefix = "REQ" if fields.get("kind") == "request" else "INC"
    ticket = Ticket.objects.create(
        customer=customer,
        number=f"{prefix}-T-{_counter[0]:06d}",
        title=fields.pop("title", f"KPI ticket {_counter[0]}"),
        **fields,
    )
    Ticket.objects.filter(pk=ticket.pk).update(created_at=created)
    ticket.refresh_from_db()
    return ticket


def clock(
    ticket: Ticket,
    metric: str,
    *,
    stopped: bool = True,
    breached: bool = False,
    paused: bool = False,
    team: Any = None,
) -> SlaClock:
    state = (
        SlaClock.State.STOPPED
        if stopped
        else SlaClock.State.PAUSED
        if paused
        else SlaClock.State.RUNNING
    )
    return SlaClock.objects.create(
        ticket=ticket,
        metric=metric,
        team=team,
        state=state,
        calendar=calendar(),
        target_minutes=60,
        started_at=ticket.created_at,
        breached=breached,
    )


def assignment(ticket: Ticket, team: tuple[Any, Any], assignee: tuple[Any, Any]) -> None:
    """An assignment event as services.assign writes it: [before, after] ids."""
    TicketEvent.objects.create(
        ticket=ticket,
        kind=TicketEvent.Kind.ASSIGNMENT,
        data={"team": list(team), "assignee": list(assignee), "status": ["new", "assigned"]},
    )


def build(world: World) -> KpiWorld:
    a, b = world.customer_a, world.customer_b
    eng = world.engineer_a
    team = world.team_a
    t: dict[str, Ticket] = {}
    t["T1"] = make_ticket(
        a,
        at(11, 3),
        priority=2,
        status="closed",
        resolved_at=at(11, 4),
        closed_at=at(11, 5),
        responded_at=at(11, 3, 2, 10),
        team=team,
        assignee=eng,
        response_business_seconds=600,
        response_wall_seconds=900,
        resolution_business_seconds=7200,
        resolution_wall_seconds=86400,
    )
    clock(t["T1"], "response")
    clock(t["T1"], "resolution")
    clock(t["T1"], "resolution", breached=True, team=team)  # an OLA clock: not the SLA
    assignment(t["T1"], (None, team.pk), (None, None))  # first assignment
    assignment(t["T1"], (team.pk, team.pk), (None, eng.pk))  # dispatch within the team
    Rating.objects.create(ticket=t["T1"], score=5)

    t["T2"] = make_ticket(
        a,
        at(11, 5),
        priority=1,
        status="resolved",
        resolved_at=at(11, 6),
        team=team,
        reopen_count=1,
        response_business_seconds=1800,
        response_wall_seconds=1800,
        resolution_business_seconds=18000,
        resolution_wall_seconds=36000,
    )
    clock(t["T2"], "response", breached=True)
    clock(t["T2"], "arrival")
    clock(t["T2"], "resolution", breached=True)
    Rating.objects.create(ticket=t["T2"], score=2)

    t["T3"] = make_ticket(
        a,
        at(11, 10),
        kind="request",
        requester=world.customer_a_user,
        priority=3,
        status="closed",
        resolved_at=at(11, 12),
        support_level=2,
        response_business_seconds=300,
        response_wall_seconds=300,
        resolution_business_seconds=3600,
        resolution_wall_seconds=172800,
    )
    clock(t["T3"], "response")
    clock(t["T3"], "resolution")
    Rating.objects.create(ticket=t["T3"], score=4)

    t["T4"] = make_ticket(
        a,
        at(11, 12),
        priority=3,
        status="in_progress",
        team=team,
        assignee=eng,
        response_business_seconds=1200,
        response_wall_seconds=5000,
    )
    clock(t["T4"], "response")
    clock(t["T4"], "resolution", stopped=False)

    t["T5"] = make_ticket(a, at(11, 15, 0), priority=2, status="pending", pending_reason="customer")
    clock(t["T5"], "response", stopped=False, breached=True)
    clock(t["T5"], "resolution", stopped=False, paused=True)

    t["T6"] = make_ticket(
        a, at(11, 20), priority=3, status="cancelled", response_business_seconds=100
    )
    clock(t["T6"], "response", breached=True)

    t["T7"] = make_ticket(
        a,
        at(10, 20),
        priority=4,
        status="closed",
        resolved_at=at(11, 2),
        team=team,
        response_business_seconds=50,
        response_wall_seconds=50,
        resolution_business_seconds=36000,
        resolution_wall_seconds=1_000_000,
    )
    clock(t["T7"], "response")
    clock(t["T7"], "resolution")
    assignment(t["T7"], (None, team.pk), (None, eng.pk))
    assignment(t["T7"], (team.pk, world.team_b.pk), (eng.pk, None))  # handed to another team
    Rating.objects.create(ticket=t["T7"], score=3)

    t["T9"] = make_ticket(a, at(10, 31, 20), priority=3, status="new")
    t["T10"] = make_ticket(
        a, at(10, 31, 15, 30), priority=3, status="closed", resolved_at=at(10, 31, 15, 45)
    )
    t["T11"] = make_ticket(a, at(11, 20, 20), priority=4, status="new")

    t["TB"] = make_ticket(
        b,
        at(11, 3),
        requester=world.customer_b_user,
        priority=1,
        status="closed",
        resolved_at=at(11, 4),
        response_business_seconds=99,
        response_wall_seconds=99,
        resolution_business_seconds=99,
        resolution_wall_seconds=99,
    )
    clock(t["TB"], "response", breached=True)
    clock(t["TB"], "resolution", breached=True)
    Rating.objects.create(ticket=t["TB"], score=1)
    return KpiWorld(world=world, tickets=t)
