"""Service-desk demo data: ~300 tickets of the two demo customers over the last 90 days.

Called by ``core.demo.load_demo`` after the core (customers JCH and RFS, teams SD/SYS/NET,
demo users) and the CMDB demo. Every ticket goes through the real services
(``create_ticket``, ``assign``, ``add_reply``, ``transition``, ``record_arrival``, ``rate``)
with ``now=`` instants in the past, so the SLA clocks run on the policies' calendars and the
outcomes are what the engine says: most targets met, some breached, some pending across
weekends and holidays. JCH (hospital) is on the 7×24 calendar, RFS (brokerage) on 5×8.

The draw is seeded, so a fresh database gets the same story. Idempotent: once the demo
customers have tickets, nothing is added (tickets belong to their users from then on).
Timeline entries are stamped with their simulated instants; historical entries are not
announced (no notification e-mails for events of last month).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from opsassure.catalog.models import SlaMetric
from opsassure.catalog.policies import ensure_default_policy, target_minutes
from opsassure.catalog.queries import business_calendar
from opsassure.core.models import Customer, CustomerContact, Team, User
from opsassure.servicedesk import demo_data as data
from opsassure.servicedesk import services, sla
from opsassure.servicedesk.models import Rating, Ticket, TicketEvent, TicketStatus
from opsassure.servicedesk.signals import ticket_event

SEED = 4
DAYS = 90
RECENT, RECENT_DAYS = 10, 4  # per customer: a live queue at the end of the story
STUCK_SHARE = 0.05  # open for long: waiting on a vendor, forgotten, never taken up
# ~0.07 s of CPU per ticket through the services: 300 ("a few hundred") cost ~20 s of the
# first start.
TICKETS = {"JCH": 180, "RFS": 120}
CALENDARS = {"JCH": "7x24", "RFS": "5x8"}
CUSTOMER_USERS = {"JCH": ("hosp_user", "hosp_admin"), "RFS": ("sec_user", "sec_admin")}
ENGINEERS = {"SYS": "engineer", "NET": "neteng", "SD": "operator"}
CHANNELS = (["portal", "phone", "monitoring", "api", "chat"], [45, 30, 13, 6, 6])


@contextlib.contextmanager
def _history_not_announced() -> Iterator[None]:
    """Mute ``ticket_event`` while history is written: last month's replies must not mail."""
    saved = ticket_event.receivers
    ticket_event.receivers = []
    ticket_event.sender_receivers_cache.clear()
    try:
        yield
    finally:
        ticket_event.receivers = saved
        ticket_event.sender_receivers_cache.clear()


@dataclass
class _Context:
    customer: Customer
    engine: Any
    policy: Any
    now: dt.datetime
    rng: random.Random
    users: dict[str, User]
    requesters: list[User]
    contacts: list[CustomerContact]
    teams: dict[str, Team]
    cis: dict[str, Any] = field(default_factory=dict)
    services: list[Any] = field(default_factory=list)
    stamps: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)


def _at(ctx: _Context, when: dt.datetime) -> dt.datetime:
    """Note that the next service call happens at ``when`` (simulated) and return it.

    Timeline entries get the real clock's time when written; ``_date_timeline`` maps every
    entry written after this call's real start to ``when`` — one UPDATE per ticket.
    """
    ctx.stamps.append((timezone.now(), when))
    return when


def _date_timeline(ctx: _Context, ticket: Ticket) -> None:
    if not ctx.stamps:
        return
    real_started = ctx.stamps[0][0]
    cases = [When(created_at__gte=real, then=Value(when)) for real, when in reversed(ctx.stamps)]
    TicketEvent.objects.filter(ticket=ticket, created_at__gte=real_started).update(
        created_at=Case(*cases, default=F("created_at"))
    )
    ctx.stamps.clear()


def _creation_instants(rng: random.Random, count: int, now: dt.datetime) -> list[dt.datetime]:
    """Mostly office hours on weekdays (Asia/Shanghai), some nights and weekends."""
    zone = timezone.get_default_timezone()
    instants = []
    for n in range(count):
        recent = n < min(RECENT, count // 3)
        back = rng.uniform(0.05, RECENT_DAYS if recent else DAYS)
        day = (now - dt.timedelta(days=back)).astimezone(zone)
        if rng.random() < 0.8:
            while day.weekday() >= 5 and rng.random() < 0.85:
                day -= dt.timedelta(days=1)
            day = day.replace(hour=rng.choice([8, 9, 9, 10, 10, 11, 14, 14, 15, 15, 16, 17]))
        instants.append(
            day.replace(minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)
        )
    return sorted(min(instant, now - dt.timedelta(minutes=20)) for instant in instants)


def _ci(ctx: _Context, hint: str) -> list[Any]:
    if not hint:
        return []
    if hint not in ctx.cis:
        from opsassure.cmdb.models import ConfigurationItem

        ctx.cis[hint] = ConfigurationItem.objects.filter(
            customer=ctx.customer, name__icontains=hint
        ).first()
    found = ctx.cis[hint]
    return [found] if found is not None else []


def _minutes(ctx: _Context, priority: int, metric: str) -> int:
    return target_minutes(ctx.policy, priority, metric) or 480


def _factor(rng: random.Random, late_share: float) -> float:
    """How much of the target is used: usually 10–85 %, sometimes late (110–300 %)."""
    return rng.uniform(1.1, 3.0) if rng.random() < late_share else rng.uniform(0.1, 0.85)


Template = tuple[str, str, str, str, str, int, int]


def _simulate(
    ctx: _Context, template: Template, t0: dt.datetime, stuck: bool, mailed: bool
) -> None:
    """One ticket's life from ``t0`` until it ends or reaches the present."""
    rng = ctx.rng
    kind, title, description, ci_hint, _team, impact, urgency = template
    channel = "email" if mailed else rng.choices(*CHANNELS)[0]
    if kind == "request" and channel == "monitoring":
        channel = "portal"
    operator = ctx.users["operator"]
    requester = rng.choice(ctx.requesters) if channel in ("portal", "email", "chat") else None
    contact = rng.choice(ctx.contacts) if requester is None and channel != "monitoring" else None
    creator = requester if channel == "portal" else operator
    service = rng.choice(ctx.services) if ctx.services and rng.random() < 0.7 else None
    ticket = services.create_ticket(
        actor=creator,
        customer=ctx.customer,
        title=title,
        description=description,
        kind=kind,
        channel=channel,
        requester=requester,
        requester_contact=contact,
        service=service,
        impact=impact,
        urgency=urgency if rng.random() < 0.8 else min(3, urgency + 1),
        cis=_ci(ctx, ci_hint),
        now=_at(ctx, t0),
    )
    try:
        _work(ctx, ticket, template, t0, stuck, requester)
    finally:
        _date_timeline(ctx, ticket)


def _work(
    ctx: _Context,
    ticket: Ticket,
    template: Template,
    t0: dt.datetime,
    stuck: bool,
    requester: User | None,
) -> None:
    rng, engine, operator = ctx.rng, ctx.engine, ctx.users["operator"]
    team_code = template[4]
    channel = ticket.channel
    if channel == "email" and requester is not None:
        services.add_reply(
            ticket,
            actor=None,
            body=rng.choice(data.CUSTOMER_REPLIES[:2]),
            author_email=requester.email,
            now=_at(ctx, t0 + dt.timedelta(minutes=5)),
        )
    if rng.random() < 0.03:  # withdrawn by the customer or a duplicate
        when = t0 + dt.timedelta(minutes=rng.randint(5, 90))
        if when < ctx.now:
            services.transition(
                ticket, actor=operator, to=TicketStatus.CANCELLED, now=_at(ctx, when)
            )
        return
    response_at = engine.add(
        t0, max(1, int(_minutes(ctx, ticket.priority, SlaMetric.RESPONSE) * _factor(rng, 0.1)))
    )
    if response_at >= ctx.now or (stuck and rng.random() < 0.2):
        return  # not yet taken up (still "new")
    assign_at = t0 + (response_at - t0) * 0.3
    handover = team_code != "SD" and rng.random() < 0.12
    first_team = "SD" if handover or team_code == "SD" else team_code
    services.assign(
        ticket,
        actor=operator,
        team=ctx.teams[first_team],
        assignee=ctx.users[ENGINEERS[first_team]],
        now=_at(ctx, assign_at),
    )
    worker = ctx.users[ENGINEERS[first_team]]
    if stuck and rng.random() < 0.25:
        return  # assigned, nobody has started
    if ticket.channel in ("email", "portal", "chat"):  # a written first response
        services.add_reply(ticket, actor=worker, body=data.REPLIES[0], now=_at(ctx, response_at))
    else:  # phone and monitoring: taking the ticket up is the response
        services.transition(
            ticket, actor=worker, to=TicketStatus.IN_PROGRESS, now=_at(ctx, response_at)
        )
    resolution = _minutes(ctx, ticket.priority, SlaMetric.RESOLUTION) * _factor(rng, 0.12)
    remaining = max(5.0, resolution - engine.elapsed(t0, response_at) / 60)
    cursor = response_at
    if handover:
        cursor = engine.add(cursor, max(1, int(remaining * 0.2)))
        if cursor >= ctx.now:
            return
        worker = ctx.users[ENGINEERS[team_code]]
        services.assign(
            ticket, actor=operator, team=ctx.teams[team_code], assignee=worker, now=_at(ctx, cursor)
        )
        remaining *= 0.8
    on_site = team_code == "NET" or ticket.priority <= 2
    if on_site and ticket.kind == "incident" and ticket.arrived_at is None:
        arrival = _minutes(ctx, ticket.priority, SlaMetric.ARRIVAL) * _factor(rng, 0.15)
        arrived = max(cursor, engine.add(t0, max(1, int(arrival))))
        if arrived < ctx.now:
            services.record_arrival(ticket, actor=worker, at=_at(ctx, arrived))
    if stuck and rng.random() < 0.4:
        return  # in progress for a long time
    if stuck or rng.random() < 0.15:  # waiting for the customer or a vendor, often a weekend
        paused = engine.add(cursor, max(1, int(remaining * 0.4)))
        if paused >= ctx.now:
            return
        reason = rng.choice(["customer", "vendor"])
        services.transition(
            ticket,
            actor=worker,
            to=TicketStatus.PENDING,
            pending_reason=reason,
            now=_at(ctx, paused),
        )
        resumed = paused + dt.timedelta(hours=rng.uniform(6, 96))
        if resumed >= ctx.now or stuck:
            return
        services.transition(
            ticket, actor=worker, to=TicketStatus.IN_PROGRESS, now=_at(ctx, resumed)
        )
        cursor, remaining = resumed, remaining * 0.6
    resolved_at = engine.add(cursor, max(1, int(remaining)))
    if resolved_at >= ctx.now:
        return
    _resolve(ctx, ticket, worker, resolved_at)


def _resolve(ctx: _Context, ticket: Ticket, worker: User, resolved_at: dt.datetime) -> None:
    rng = ctx.rng
    code, note = rng.choice(data.RESOLUTIONS[ticket.kind])
    services.transition(
        ticket,
        actor=worker,
        to=TicketStatus.RESOLVED,
        resolution_code=code,
        resolution_note=note,
        now=_at(ctx, resolved_at),
    )
    customer_actor = ticket.requester  # None: a contact; the system acts for them
    reopened_at = resolved_at + dt.timedelta(hours=rng.uniform(4, 30))
    if rng.random() < 0.06 and reopened_at < ctx.now:
        services.transition(
            ticket, actor=customer_actor, to=TicketStatus.REOPENED, now=_at(ctx, reopened_at)
        )
        resolved_at = reopened_at + dt.timedelta(hours=rng.uniform(1, 20))
        if resolved_at >= ctx.now:
            return
        services.transition(
            ticket,
            actor=worker,
            to=TicketStatus.RESOLVED,
            resolution_code=code,
            resolution_note=note,
            now=_at(ctx, resolved_at),
        )
    rated_at = resolved_at + dt.timedelta(hours=rng.uniform(1, 48))
    if rng.random() < 0.65 and rated_at < ctx.now:
        late = ticket.clocks.filter(team__isnull=True, breached=True).exists()
        weights = [1, 3, 4, 3, 1] if late else [0, 0, 2, 8, 12]
        score = rng.choices([1, 2, 3, 4, 5], weights)[0]
        rating = services.rate(
            ticket,
            actor=customer_actor,
            score=score,
            comment=data.RATING_COMMENTS[score],
            now=_at(ctx, rated_at),
        )
        Rating.objects.filter(pk=rating.pk).update(created_at=rated_at)
    closed_at = resolved_at + dt.timedelta(days=rng.uniform(1, 6))
    if closed_at < ctx.now:
        services.transition(
            ticket, actor=customer_actor, to=TicketStatus.CLOSED, now=_at(ctx, closed_at)
        )


def _context(code: str, now: dt.datetime, rng: random.Random) -> _Context:
    from opsassure.catalog.models import Service, ServiceCalendar

    customer = Customer.objects.get(code=code)
    calendar = ServiceCalendar.objects.get(customer__isnull=True, code=CALENDARS[code])
    policy = ensure_default_policy(customer, calendar)
    users = {u.username: u for u in User.objects.filter(username__in=[*ENGINEERS.values()])}
    return _Context(
        customer=customer,
        engine=business_calendar(policy.calendar),
        policy=policy,
        now=now,
        rng=rng,
        users=users,
        requesters=list(User.objects.filter(username__in=CUSTOMER_USERS[code]).order_by("pk")),
        contacts=list(CustomerContact.objects.filter(customer=customer).order_by("pk")),
        teams={t.code: t for t in Team.objects.filter(code__in=ENGINEERS)},
        services=list(Service.objects.filter(customer=customer, is_active=True).order_by("pk")),
    )


def load(console: Any = None) -> None:
    """Create the demo tickets unless the demo customers have tickets already."""
    from rich.progress import track

    from opsassure.core.audit import AuditContext, audit_context

    if Ticket.objects.filter(customer__code__in=TICKETS).exists():
        return
    if Customer.objects.filter(code__in=TICKETS).count() != len(TICKETS):
        return
    now = timezone.now().replace(microsecond=0)
    # Several platform tests load the whole demo: there a tenth of the story is enough.
    scale = 0.1 if getattr(settings, "TESTING", False) else 1.0
    rng = random.Random(SEED)  # noqa: S311  (a reproducible story, not a secret)
    work: list[tuple[str, Template, dt.datetime, bool, bool]] = []
    for code, count in TICKETS.items():
        templates = data.TEMPLATES[code]
        for instant in _creation_instants(rng, int(count * scale), now):
            stuck = rng.random() < STUCK_SHARE
            mailed = len(work) % 8 == 3  # every eighth ticket came in by e-mail
            work.append((code, rng.choice(templates), instant, stuck, mailed))
    work.sort(key=lambda item: item[2])  # numbers follow creation time
    items = track(work, description="Service desk demo", console=console) if console else work
    with (
        audit_context(AuditContext(actor_username="demo")),
        _history_not_announced(),
        transaction.atomic(),
    ):
        contexts = {code: _context(code, now, rng) for code in TICKETS}
        for code, template, instant, stuck, mailed in items:
            _simulate(contexts[code], template, instant, stuck, mailed)
    # Open tickets past a deadline get their warnings and breaches now, as the sweep would.
    sla.sweep(now)
