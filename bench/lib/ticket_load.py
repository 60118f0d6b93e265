"""A large service-desk history written with COPY (PostgreSQL) or executemany (SQLite): plain
rows, no model instances, no services, no timeline fan-out.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CUSTOMER_SHARES = [30, 20, 15, 10, 10, 5, 5, 5]
TEAMS = 6
ENGINEERS = 30
BATCH = 20_000
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


class _Table:
    """Rows of one model written as plain tuples: ``COPY`` on PostgreSQL, ``executemany`` on
    SQLite — no model instances, no per-field preparation in the loop. Values are given by
    attribute name, already in database form (see ``_Load.time``); the other columns get
    their field's default, prepared once."""

    def __init__(self, model: Any, next_id: int) -> None:
        from django.db import connection

        self.model = model
        self.table = model._meta.db_table
        fields = model._meta.concrete_fields
        self.names = [f.attname for f in fields]
        self.columns = [f.column for f in fields]
        self.defaults = [f.get_db_prep_save(f.get_default(), connection) for f in fields]
        self.rows: list[tuple[Any, ...]] = []
        self.next_id = next_id

    def add(self, values: dict[str, Any]) -> int:
        row_id = values["id"] = self.next_id
        self.next_id += 1
        self.rows.append(
            tuple(
                values.get(name, default)
                for name, default in zip(self.names, self.defaults, strict=True)
            )
        )
        return row_id

    def flush(self) -> None:
        from django.db import connection

        if not self.rows:
            return
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in self.columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {quote(self.table)} ({columns}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(
                    f"INSERT INTO {quote(self.table)} ({columns}) VALUES ({marks})",
                    self.rows,
                )
        self.rows = []

    def finish(self) -> None:
        """PostgreSQL: move the identity sequence past the ids written here."""
        from django.db import connection

        if connection.vendor == "postgresql" and self.next_id > 1:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                    [self.table, self.next_id - 1],
                )


def _first_id(model: Any) -> int:
    from django.db.models import Max

    return int(model.objects.aggregate(top=Max("id"))["top"] or 0) + 1


def generate(
    count: int, open_count: int, rng: random.Random, progress: Callable[[str, str], None]
) -> History:
    import json

    from django.db import connection, transaction

    from opsassure.catalog.models import ServiceCalendar, SlaPolicy
    from opsassure.servicedesk.models import Rating, SlaClock, Ticket, TicketEvent

    began = time.perf_counter()
    customers, teams, engineers, personas = _people()
    policies = {p.customer_id: p.pk for p in SlaPolicy.objects.filter(is_default=True)}
    calendar_id = ServiceCalendar.objects.get(customer__isnull=True, code="5x8").pk
    team_of_customer: dict[int, list[Any]] = {}
    for team in teams:
        for customer in team.customers.all():
            team_of_customer.setdefault(customer.pk, []).append(team)
    members = {
        team.pk: [e.pk for e in engineers if e.teams.filter(pk=team.pk).exists()] for team in teams
    }
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    postgres = connection.vendor == "postgresql"

    def when(value: dt.datetime | None) -> Any:
        """A datetime as the database takes it (SQLite: Django's naive UTC text)."""
        if value is None or postgres:
            return value
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")

    weights = CUSTOMER_SHARES
    open_every = max(1, count // max(open_count, 1))
    history = History(customers, teams, engineers, personas)
    tickets = _Table(Ticket, _first_id(Ticket))
    clocks = _Table(SlaClock, _first_id(SlaClock))
    events = _Table(TicketEvent, _first_id(TicketEvent))
    ratings = _Table(Rating, _first_id(Rating))
    number = 0
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        for i in range(start, start + size):
            customer = rng.choices(customers, weights)[0]
            is_open = i % open_every == 0 and history.open_tickets < open_count
            age = rng.uniform(0, 20) if is_open else rng.uniform(0.5, SPAN_DAYS)
            created = (now - dt.timedelta(days=age)).replace(microsecond=0)
            priority = rng.choices([1, 2, 3, 4], [3, 17, 55, 25])[0]
            team = rng.choice(team_of_customer[customer.pk])
            assignee = rng.choice(members[team.pk]) if rng.random() < 0.85 else None
            response_target, resolution_target = TARGETS[priority]
            late = rng.random() < 0.1
            number += 1
            fields: dict[str, Any] = {
                "customer_id": customer.pk,
                "kind": "incident" if rng.random() < 0.7 else "request",
                "number": f"B-{number:08d}",
                "title": f"bench ticket {number}",
                "priority": priority,
                "team_id": team.pk,
                "assignee_id": assignee,
                "sla_policy_id": policies[customer.pk],
                "created_at": when(created),
                "updated_at": when(created),
                "channel": rng.choice(["portal", "email", "phone", "monitoring"]),
            }
            response_business = int(response_target * 60 * rng.uniform(0.1, 1.4))
            resolution_business = int(resolution_target * 60 * rng.uniform(0.1, 1.6))
            responded_at = resolved_at = None
            if is_open:
                history.open_tickets += 1
                status = rng.choice(["new", "assigned", "in_progress", "pending"])
                responded = status in ("in_progress", "pending")
                responded_at = created + dt.timedelta(minutes=5) if responded else None
                response_due = created + dt.timedelta(minutes=response_target * 3)
                resolution_due = now + dt.timedelta(hours=rng.uniform(-2, 72))
                fields.update(
                    status=status,
                    responded_at=when(responded_at),
                    response_business_seconds=response_business if responded else None,
                    response_wall_seconds=response_business * 2 if responded else None,
                    response_due=when(response_due),
                    resolution_due=when(resolution_due),
                )
            else:
                resolved = created + dt.timedelta(seconds=resolution_business * 3)
                status = "closed" if rng.random() < 0.9 else rng.choice(["resolved", "cancelled"])
                responded_at = created + dt.timedelta(seconds=response_business * 2)
                resolved_at = resolved if status != "cancelled" else None
                response_due = resolution_due = None
                fields.update(
                    status=status,
                    responded_at=when(responded_at),
                    resolved_at=when(resolved_at),
                    closed_at=when(resolved + dt.timedelta(days=2)) if status == "closed" else None,
                    response_business_seconds=response_business,
                    response_wall_seconds=response_business * 2,
                    resolution_business_seconds=resolution_business,
                    resolution_wall_seconds=resolution_business * 3,
                    reopen_count=1 if rng.random() < 0.04 else 0,
                    sla_breached=late,
                )
            ticket_id = tickets.add(fields)
            common = {"ticket_id": ticket_id, "calendar_id": calendar_id}
            responded = responded_at is not None
            # An open ticket never answered and past its response deadline was breached by
            # an earlier sweep: nothing left to check on that clock.
            response_past = not responded and response_due is not None and response_due < now
            clocks.add(
                {
                    "metric": "response",
                    "target_minutes": response_target,
                    "started_at": when(created),
                    "state": "stopped" if responded else "running",
                    "running_since": None if responded else when(created),
                    "elapsed_seconds": fields["response_business_seconds"] or 0,
                    "due_at": None if responded else when(response_due),
                    "next_check_at": None if responded or response_past else when(response_due),
                    "warnings_sent": 2 if response_past else 0,
                    "breached": (late and responded) or response_past,
                    "stopped_at": when(responded_at),
                    **common,
                }
            )
            if is_open:
                due_now = rng.random() < DUE_SHARE
                next_check = (
                    now - dt.timedelta(minutes=rng.uniform(1, 30))
                    if due_now
                    else now + dt.timedelta(hours=rng.uniform(1, 72))
                )
                paused = status == "pending"
                clocks.add(
                    {
                        "metric": "resolution",
                        "target_minutes": resolution_target,
                        "started_at": when(created),
                        "state": "paused" if paused else "running",
                        "running_since": None if paused else when(created),
                        "due_at": None if paused else when(resolution_due),
                        "warn_first_at": None if paused else when(next_check),
                        "next_check_at": None if paused else when(next_check),
                        **common,
                    }
                )
            else:
                clocks.add(
                    {
                        "metric": "resolution",
                        "target_minutes": resolution_target,
                        "started_at": when(created),
                        "state": "stopped",
                        "elapsed_seconds": resolution_business,
                        "breached": late,
                        "stopped_at": when(resolved_at),
                        **common,
                    }
                )
                if resolved_at is not None and rng.random() < 0.4:
                    ratings.add(
                        {
                            "ticket_id": ticket_id,
                            "score": rng.choices([1, 2, 3, 4, 5], [2, 3, 10, 35, 50])[0],
                            "created_at": when(resolved_at),
                        }
                    )
            if rng.random() < 0.2:
                events.add(
                    {
                        "ticket_id": ticket_id,
                        "kind": "assignment",
                        "data": json.dumps({"team": [None, team.pk], "assignee": [None, assignee]}),
                        "created_at": when(created),
                    }
                )
        with transaction.atomic():
            for table in (tickets, clocks, events, ratings):
                table.flush()
        history.tickets += size
        if (start // BATCH) % 20 == 19 or start + size >= count:
            rate = history.tickets / (time.perf_counter() - began)
            progress("generated", f"{history.tickets:,} tickets ({rate:,.0f}/s)")
    for table in (tickets, clocks, events, ratings):
        table.finish()
    with connection.cursor() as cursor:
        # Fresh planner statistics and (PostgreSQL) the visibility map, as autovacuum keeps
        # them on a running system: index-only scans need the latter.
        cursor.execute("VACUUM ANALYZE" if postgres else "ANALYZE")
    return history
