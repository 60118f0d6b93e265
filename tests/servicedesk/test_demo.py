"""The service-desk demo: tickets through the real services, dated in the past, idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Max, Min
from django.utils import timezone

from opsassure.core.demo import load_demo
from opsassure.core.models import User
from opsassure.servicedesk import demo, kpi
from opsassure.servicedesk.models import (
    OPEN_STATUSES,
    Rating,
    SlaClock,
    Ticket,
    TicketEvent,
)

pytestmark = pytest.mark.django_db


def test_demo_tickets_tell_a_story_and_load_once() -> None:
    load_demo()
    # The alerting demo opens incidents of its own (from alerts): not part of this story.
    tickets = Ticket.objects.filter(customer__code__in=["JCH", "RFS"], alert_groups__isnull=True)
    count = tickets.count()
    # Under the test suite the demo draws a tenth of its tickets (see demo.load).
    assert count == sum(int(n * 0.1) for n in demo.TICKETS.values()) == 30
    assert set(tickets.values_list("customer__code", flat=True)) == {"JCH", "RFS"}
    now = timezone.now()
    span = tickets.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert span["first"] < now - dt.timedelta(days=20)
    assert span["last"] < now
    # The timeline carries the simulated instants, not the time of loading.
    created = TicketEvent.objects.filter(kind=TicketEvent.Kind.CREATED, ticket__in=tickets)
    mismatched = [
        e for e in created.select_related("ticket") if e.created_at != e.ticket.created_at
    ]
    assert mismatched == []
    assert tickets.filter(status__in=OPEN_STATUSES).exists()
    assert tickets.filter(resolved_at__isnull=False).exists()
    assert SlaClock.objects.filter(ticket__in=tickets, team__isnull=True).exists()
    assert Rating.objects.filter(ticket__in=tickets).exists()
    assert tickets.filter(channel="email").exists()
    # The KPI dashboard has something to show for a service manager.
    manager = User.objects.get(username="manager")
    start = span["first"]
    flt = kpi.KpiFilter(start=start, end=now, zone=dt.UTC)
    figures = kpi.compute_kpis(manager, flt)["overall"]
    everything = Ticket.objects.count()
    assert figures["received"] == everything  # the demo customers' tickets are all there are
    assert figures["resolved"] >= 1
    # Loading again adds nothing.
    events = TicketEvent.objects.count()
    load_demo()
    assert Ticket.objects.count() == everything
    assert TicketEvent.objects.count() == events
