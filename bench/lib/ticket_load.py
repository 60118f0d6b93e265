"""A large service-desk history written with bulk inserts (no services, no timeline fan-out).

Eight customers of very different sizes (the biggest holds 30 % of the tickets), six teams,
thirty engineers, the default 5×8 SLA policy per customer. Tickets are spread over the last
two years; ``open_count`` of them are open now (new / assigned / in progress / pending) with
running resolution clocks whose next check is mostly in the future — 1 % are due, so the
breach sweep has real work. Closed tickets carry stopped clocks (about 10 % breached),
business and wall durations, a rating on 40 % and an assignment event on 20 %.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

CUSTOMER_SHARES = [30, 20, 15, 10, 10, 5, 5, 5]
TEAMS = 6
ENGINEERS = 30
BATCH = 5000
SPAN_DAYS = 730
DUE_SHARE = 0.01  # open clocks whose next check has passed when the sweep runs
# priority -> (response, resolution) business minutes of the default policy
TARGETS = {1: (15, 240), 2: (30, 480), 3: (120, 1440), 4: (480, 2400)}


@dataclass
class History:
    customers: list[Any]
    teams: list[Any]
    engineers: list[Any]
    personas: dict[str, Any] = field(default_factory=dict)
    tickets: int = 0
    open_tickets: int = 0


@contextmanager
def historical_timestamps() -> Iterator[None]:
    """Let bulk_create keep the ``created_at`` we give (auto_now_add would overwrite it)."""
    from opsassure.servicedesk.models import Rating, Ticket, TicketEvent

    fields = [m._meta.get_field("created_at") for m in (Ticket, TicketEvent, Rating)]
    saved = [(f, f.auto_now_add, getattr(f, "auto_now", False)) for f in fields]
    for f in fields:
        f.auto_now_add = False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for f, add, _now in saved:
            f.auto_now_add = add  # type: ignore[attr-defined]


def _people() -> tuple[list[Any], list[Any], list[Any], dict[str, Any]]:
    from django.contrib.auth.models import Group

    from opsassure.catalog.policies import ensure_default_policy
    from opsassure.core.models import Customer, Team, User

    customers = [
        Customer.objects.create(code=f"C{n}", name=f"客户 {n} Customer {n}")
        for n in range(len(CUSTOMER_SHARES))
    ]
    for customer in customers:
        ensure_default_policy(customer)
    teams = [Team.objects.create(code=f"T{n}", name=f"Team {n}") for n in range(TEAMS)]
    for n, team in enumerate(teams):
        team.customers.set([customers[0], customers[1 + n % 7], customers[1 + (n + 3) % 7]])
    engineer_role = Group.objects.get(name="engineer")
    engineers = []
    for n in range(ENGINEERS):
        user = User.objects.create_user(username=f"eng{n}", password=None, display_name=f"E{n}")
        user.groups.add(engineer_role)
        teams[n % TEAMS].members.add(user)
        engineers.append(user)
    manager = User.objects.create_user(username="bench_manager", password=None)
    manager.groups.add(Group.objects.get(name="service_manager"))
    customer_admin = User.objects.create_user(
        username="bench_customer", password=None, customer=customers[0]
    )
    customer_admin.groups.add(Group.objects.get(name="customer_admin"))
    personas = {
        "engineer": User.objects.get(pk=engineers[0].pk),
        "manager": User.objects.get(pk=manager.pk),
        "customer admin": User.objects.get(pk=customer_admin.pk),
    }
    return customers, teams, engineers, personas


def generate(
    count: int, open_count: int, rng: random.Random, progress: Callable[[str, str], None]
) -> History:
    from django.db import connection, transaction

    from opsassure.catalog.models import ServiceCalendar, SlaPolicy
    from opsassure.servicedesk.models import Rating, SlaClock, Ticket, TicketEvent

    began = time.perf_counter()
    customers, teams, engineers, personas = _people()
    policies = {p.customer_id: p for p in SlaPolicy.objects.filter(is_default=True)}
    calendar_id = ServiceCalendar.objects.get(customer__isnull=True, code="5x8").pk
    team_of_customer: dict[int, list[Any]] = {}
    for team in teams:
        for customer in team.customers.all():
            team_of_customer.setdefault(customer.pk, []).append(team)
    members = {
        team.pk: [e for e in engineers if e.teams.filter(pk=team.pk).exists()] for team in teams
    }
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    weights = CUSTOMER_SHARES
    open_every = max(1, count // max(open_count, 1))
    history = History(customers, teams, engineers, personas)
    number = 0
    with historical_timestamps():
        for start in range(0, count, BATCH):
            size = min(BATCH, count - start)
            tickets, plans = [], []
            for i in range(start, start + size):
                customer = rng.choices(customers, weights)[0]
                is_open = i % open_every == 0 and history.open_tickets < open_count
                age = rng.uniform(0, 20) if is_open else rng.uniform(0.5, SPAN_DAYS)
                created = now - dt.timedelta(days=age)
                priority = rng.choices([1, 2, 3, 4], [3, 17, 55, 25])[0]
                team = rng.choice(team_of_customer[customer.pk])
                assignee = rng.choice(members[team.pk]) if rng.random() < 0.85 else None
                response_target, resolution_target = TARGETS[priority]
                late = rng.random() < 0.1
                number += 1
                fields: dict[str, Any] = {
                    "customer": customer,
                    "kind": "incident" if rng.random() < 0.7 else "request",
                    "number": f"B-{number:08d}",
                    "title": f"bench ticket {number}",
                    "priority": priority,
                    "team": team,
                    "assignee": assignee,
                    "sla_policy": policies[customer.pk],
                    "created_at": created,
                    "updated_at": created,
                    "channel": rng.choice(["portal", "email", "phone", "monitoring"]),
                }
                response_business = int(response_target * 60 * rng.uniform(0.1, 1.4))
                resolution_business = int(resolution_target * 60 * rng.uniform(0.1, 1.6))
                if is_open:
                    history.open_tickets += 1
                    status = rng.choice(["new", "assigned", "in_progress", "pending"])
                    responded = status in ("in_progress", "pending")
                    fields.update(
                        status=status,
                        responded_at=created + dt.timedelta(minutes=5) if responded else None,
                        response_business_seconds=response_business if responded else None,
                        response_wall_seconds=response_business * 2 if responded else None,
                        response_due=created + dt.timedelta(minutes=response_target * 3),
                        resolution_due=now + dt.timedelta(hours=rng.uniform(-2, 72)),
                    )
                else:
                    resolved = created + dt.timedelta(seconds=resolution_business * 3)
                    status = (
                        "closed" if rng.random() < 0.9 else rng.choice(["resolved", "cancelled"])
                    )
                    fields.update(
                        status=status,
                        responded_at=created + dt.timedelta(seconds=response_business * 2),
                        resolved_at=resolved if status != "cancelled" else None,
                        closed_at=resolved + dt.timedelta(days=2) if status == "closed" else None,
                        response_business_seconds=response_business,
                        response_wall_seconds=response_business * 2,
                        resolution_business_seconds=resolution_business,
                        resolution_wall_seconds=resolution_business * 3,
                        reopen_count=1 if rng.random() < 0.04 else 0,
                        sla_breached=late,
                    )
                tickets.append(Ticket(**fields))
                plans.append((is_open, late, response_target, resolution_target, status))
            with transaction.atomic():
                Ticket.objects.bulk_create(tickets, batch_size=1000)
                clocks, events, ratings = [], [], []
                for ticket, (is_open, late, response_target, resolution_target, status) in zip(
                    tickets, plans, strict=True
                ):
                    common = {"ticket_id": ticket.pk, "calendar_id": calendar_id}
                    responded = ticket.responded_at is not None
                    # An open ticket never answered and past its response deadline was
                    # breached by an earlier sweep: nothing left to check on that clock.
                    response_past = not responded and ticket.response_due < now
                    clocks.append(
                        SlaClock(
                            metric="response",
                            target_minutes=response_target,
                            started_at=ticket.created_at,
                            state="stopped" if responded else "running",
                            running_since=None if responded else ticket.created_at,
                            elapsed_seconds=ticket.response_business_seconds or 0,
                            due_at=None if responded else ticket.response_due,
                            next_check_at=None
                            if responded or response_past
                            else ticket.response_due,
                            warnings_sent=2 if response_past else 0,
                            breached=(late and responded) or response_past,
                            stopped_at=ticket.responded_at,
                            **common,
                        )
                    )
                    if is_open:
                        due_now = rng.random() < DUE_SHARE
                        next_check = (
                            now - dt.timedelta(minutes=rng.uniform(1, 30))
                            if due_now
                            else now + dt.timedelta(hours=rng.uniform(1, 72))
                        )
                        paused = status == "pending"
                        clocks.append(
                            SlaClock(
                                metric="resolution",
                                target_minutes=resolution_target,
                                started_at=ticket.created_at,
                                state="paused" if paused else "running",
                                running_since=None if paused else ticket.created_at,
                                due_at=None if paused else ticket.resolution_due,
                                warn_first_at=None if paused else next_check,
                                next_check_at=None if paused else next_check,
                                **common,
                            )
                        )
                    else:
                        clocks.append(
                            SlaClock(
                                metric="resolution",
                                target_minutes=resolution_target,
                                started_at=ticket.created_at,
                                state="stopped",
                                elapsed_seconds=ticket.resolution_business_seconds or 0,
                                breached=late,
                                stopped_at=ticket.resolved_at,
                                **common,
                            )
                        )
                        if ticket.resolved_at is not None and rng.random() < 0.4:
                            ratings.append(
                                Rating(
                                    ticket_id=ticket.pk,
                                    score=rng.choices([1, 2, 3, 4, 5], [2, 3, 10, 35, 50])[0],
                                    created_at=ticket.resolved_at,
                                )
                            )
                    if rng.random() < 0.2:
                        events.append(
                            TicketEvent(
                                ticket_id=ticket.pk,
                                kind="assignment",
                                data={
                                    "team": [None, ticket.team_id],
                                    "assignee": [None, ticket.assignee_id],
                                },
                                created_at=ticket.created_at,
                            )
                        )
                SlaClock.objects.bulk_create(clocks, batch_size=1000)
                TicketEvent.objects.bulk_create(events, batch_size=1000)
                Rating.objects.bulk_create(ratings, batch_size=1000)
            history.tickets += size
            if (start // BATCH) % 20 == 19 or start + size >= count:
                rate = history.tickets / (time.perf_counter() - began)
                progress("generated", f"{history.tickets:,} tickets ({rate:,.0f}/s)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh planner statistics, as a running system has
    return history
