"""SLA clocks against the known traps, on the real seeded 5×8 calendar (Asia/Shanghai) with
mainland-China holidays, a 7×24 calendar, a calendar ending at 24:00 and Europe/Berlin (DST).

The default policy (catalog.policies.DEFAULT_TARGETS): P1 15 min / 2 h / 4 h,
P2 30 min / 4 h / 8 h, P3 2 h / 8 h / 24 h, P4 8 h / — / 40 h (business time).
"""

from __future__ import annotations

import datetime as dt

import pytest

from opsassure.catalog import services as catalog_services
from opsassure.catalog.models import CalendarDay, ServiceCalendar, SlaPolicy
from opsassure.catalog.policies import ensure_default_policy
from opsassure.catalog.queries import business_calendar
from opsassure.core.models import Customer
from opsassure.servicedesk import services, sla
from opsassure.servicedesk.models import SlaClock, Ticket
from tests.conftest import World
from tests.servicedesk.conftest import BERLIN, sh

pytestmark = pytest.mark.django_db


def _open(sd: World, at: dt.datetime, priority: int | None = None, **kwargs: object) -> Ticket:
    return services.create_ticket(
        actor=sd.engineer_a,
        customer=kwargs.pop("customer", sd.customer_a),  # type: ignore[arg-type]
        title="故障",
        priority=priority,
        now=at,
        **kwargs,  # type: ignore[arg-type]
    )


def _clock(ticket: Ticket, metric: str) -> SlaClock:
    return SlaClock.objects.get(ticket=ticket, metric=metric, team=None)


def _use_calendar(customer: Customer, calendar: ServiceCalendar) -> SlaPolicy:
    policy = ensure_default_policy(customer)
    policy.calendar = calendar
    policy.save()
    return policy


def test_add_business_seconds_handles_partial_minutes_over_gaps(calendars: dict) -> None:  # type: ignore[type-arg]
    engine = business_calendar(calendars["5x8"])
    start = sh(2026, 11, 23, 11, 59, 30)
    assert sla.add_business_seconds(engine, start, 20) == sh(2026, 11, 23, 11, 59, 50)
    assert sla.add_business_seconds(engine, start, 45) == sh(2026, 11, 23, 14, 0, 15)
    assert sla.add_business_seconds(engine, start, 90) == sh(2026, 11, 23, 14, 1, 0)
    # Started outside working time: counting starts at the next interval.
    assert sla.add_business_seconds(engine, sh(2026, 11, 23, 12, 30), 30) == sh(
        2026, 11, 23, 14, 0, 30
    )
    for seconds in (1, 59, 61, 3599, 7200, 14_401, 86_399):
        due = sla.add_business_seconds(engine, start, seconds)
        assert engine.elapsed(start, due) == seconds


def test_lunch_break(sd: World) -> None:
    ticket = _open(sd, sh(2026, 11, 23, 11, 30))  # P3: response 2 h
    assert _clock(ticket, "response").due_at == sh(2026, 11, 23, 15, 30)
    # warnings at 75 % (90 min) and 90 % (108 min) of the target, lunch skipped as well
    assert _clock(ticket, "response").warn_first_at == sh(2026, 11, 23, 15, 0)
    assert _clock(ticket, "response").warn_second_at == sh(2026, 11, 23, 15, 18)


def test_created_outside_working_hours(sd: World) -> None:
    saturday = _open(sd, sh(2026, 11, 21, 10, 0))
    friday_night = _open(sd, sh(2026, 11, 20, 20, 0))
    early = _open(sd, sh(2026, 11, 23, 6, 0))
    assert _clock(saturday, "response").due_at == sh(2026, 11, 23, 10, 0)
    assert _clock(friday_night, "response").due_at == sh(2026, 11, 23, 10, 0)
    assert _clock(early, "response").due_at == sh(2026, 11, 23, 10, 0)


def test_holiday_block_national_day(sd: World) -> None:
    # Wed 30 Sep 17:00: one hour on the day, then 1–7 Oct are holidays; Thu 8 Oct works.
    ticket = _open(sd, sh(2026, 9, 30, 17, 0))
    assert _clock(ticket, "response").due_at == sh(2026, 10, 8, 9, 0)


def test_adjusted_working_saturday(sd: World) -> None:
    # Sat 10 Oct 2026 is a 调休 working day (seeded): Fri 17–18 + Sat 08–09.
    assert CalendarDay.objects.filter(date=dt.date(2026, 10, 10), kind="workday").exists()
    ticket = _open(sd, sh(2026, 10, 9, 17, 0))
    assert _clock(ticket, "response").due_at == sh(2026, 10, 10, 9, 0)


def test_pause_and_resume_across_a_holiday(sd: World) -> None:
    ticket = _open(sd, sh(2026, 9, 30, 9, 0))  # resolution 24 h
    services.transition(
        ticket,
        actor=sd.engineer_a,
        to="pending",
        pending_reason="vendor",
        now=sh(2026, 9, 30, 11, 0),
    )
    clock = _clock(ticket, "resolution")
    assert (clock.state, clock.elapsed_seconds, clock.due_at) == ("paused", 7200, None)
    assert Ticket.objects.get(pk=ticket.pk).resolution_due is None
    # The working afternoon of 30 Sep and all of 8 Oct pass while pending: not counted.
    services.transition(ticket, actor=sd.engineer_a, to="in_progress", now=sh(2026, 10, 9, 10, 0))
    clock = _clock(ticket, "resolution")
    # 22 h left: Fri 9 Oct 10–12, 14–18 (6) · Sat 10 Oct 调休 (8) · Sun off · Mon 12 Oct (8)
    assert clock.due_at == sh(2026, 10, 12, 18, 0)
    assert Ticket.objects.get(pk=ticket.pk).resolution_due == sh(2026, 10, 12, 18, 0)
    services.transition(
        ticket,
        actor=sd.engineer_a,
        to="resolved",
        resolution_code="vendor",
        resolution_note="厂商更换主板",
        now=sh(2026, 10, 12, 9, 0),
    )
    fresh = Ticket.objects.get(pk=ticket.pk)
    # 2 h + 6 h + 8 h + 1 h; wall time excludes the pending stretch too
    assert fresh.resolution_business_seconds == 17 * 3600
    wall_running = (sh(2026, 9, 30, 11) - sh(2026, 9, 30, 9)) + (
        sh(2026, 10, 12, 9) - sh(2026, 10, 9, 10)
    )
    assert fresh.resolution_wall_seconds == int(wall_running.total_seconds())
    assert _clock(ticket, "resolution").breached is False


def test_priority_change_mid_flight_keeps_elapsed_time(sd: World) -> None:
    ticket = _open(sd, sh(2026, 11, 23, 9, 0))  # P3
    services.add_reply(ticket, actor=sd.engineer_a, body="收到", now=sh(2026, 11, 23, 9, 20))
    services.update_ticket(ticket, actor=sd.engineer_a, impact=1, now=sh(2026, 11, 23, 13, 0))
    ticket.refresh_from_db()
    assert ticket.priority == 2  # impact 1 × urgency 2
    resolution, arrival = _clock(ticket, "resolution"), _clock(ticket, "arrival")
    assert resolution.elapsed_seconds == 3 * 3600  # 09–12
    # P2: 8 h resolution → 5 h left from 13:00 (lunch): 14–18 + Tue 08–09
    assert resolution.due_at == sh(2026, 11, 24, 9, 0)
    # P2: 4 h arrival → 1 h left: 14–15
    assert arrival.due_at == sh(2026, 11, 23, 15, 0)
    # warnings re-derived from the new target: 75 % of 8 h = 6 h → 3 h after 14:00 → 17:00
    assert resolution.warn_first_at == sh(2026, 11, 23, 17, 0)
    assert _clock(ticket, "response").state == "stopped"  # history stays


def test_priority_change_to_p4_removes_the_arrival_clock(sd: World) -> None:
    ticket = _open(sd, sh(2026, 11, 23, 9, 0))
    services.update_ticket(ticket, actor=sd.engineer_a, priority=4, now=sh(2026, 11, 23, 10, 0))
    assert not SlaClock.objects.filter(ticket=ticket, metric="arrival").exists()
    services.update_ticket(ticket, actor=sd.engineer_a, priority=1, now=sh(2026, 11, 23, 10, 30))
    arrival = _clock(ticket, "arrival")
    # Back with the business time the ticket has been open (1.5 h of P1's 2 h).
    assert arrival.elapsed_seconds == 5400
    assert arrival.due_at == sh(2026, 11, 23, 11, 0)


def test_calendar_edit_after_creation_changes_nothing_until_an_explicit_event(sd: World) -> None:
    open_ticket = _open(sd, sh(2026, 11, 23, 9, 0))
    closed_ticket = _open(sd, sh(2026, 11, 23, 9, 0))
    services.transition(
        closed_ticket,
        actor=sd.engineer_a,
        to="resolved",
        resolution_code="solved",
        resolution_note="ok",
        now=sh(2026, 11, 23, 10, 0),
    )
    closed_before = list(SlaClock.objects.filter(ticket=closed_ticket).values())
    calendar = ServiceCalendar.objects.get(code="5x8", customer=None)
    catalog_services.set_day(calendar, date=dt.date(2026, 11, 24), kind="closed", name="停电")
    assert _clock(open_ticket, "resolution").due_at == sh(2026, 11, 26, 9, 0)
    assert Ticket.objects.get(pk=open_ticket.pk).resolution_due == sh(2026, 11, 26, 9, 0)
    assert list(SlaClock.objects.filter(ticket=closed_ticket).values()) == closed_before
    # An explicit event (pending and back) recomputes with the calendar as it is now.
    services.transition(
        open_ticket,
        actor=sd.engineer_a,
        to="pending",
        pending_reason="customer",
        now=sh(2026, 11, 23, 10, 0),
    )
    services.transition(
        open_ticket, actor=sd.engineer_a, to="in_progress", now=sh(2026, 11, 23, 10, 0)
    )
    assert _clock(open_ticket, "resolution").due_at == sh(2026, 11, 27, 9, 0)
    assert list(SlaClock.objects.filter(ticket=closed_ticket).values()) == closed_before


def test_seven_by_twenty_four_crosses_midnight(sd: World, calendars: dict) -> None:  # type: ignore[type-arg]
    _use_calendar(sd.customer_a, calendars["7x24"])
    ticket = _open(sd, sh(2026, 9, 30, 23, 30), priority=1)
    assert _clock(ticket, "response").due_at == sh(2026, 9, 30, 23, 45)
    assert _clock(ticket, "resolution").due_at == sh(2026, 10, 1, 3, 30)  # holiday: 7×24 works


def test_interval_ending_at_24_00(sd: World) -> None:
    night = catalog_services.create_calendar(
        customer=sd.customer_a,
        code="night",
        name="夜班",
        intervals=[(day, 18 * 60, 1440) for day in range(7)],
        holidays_included=True,
    )
    _use_calendar(sd.customer_a, night)
    ticket = _open(sd, sh(2026, 11, 23, 23, 0), priority=3)
    assert _clock(ticket, "response").due_at == sh(2026, 11, 24, 19, 0)  # 23–24 + Tue 18–19
    # 15 min response ends exactly at the end of the interval: 24:00 = Tue 00:00, not 18:00
    p1 = _open(sd, sh(2026, 11, 23, 23, 45), priority=1)
    assert _clock(p1, "response").due_at == sh(2026, 11, 24, 0, 0)
    assert _clock(p1, "arrival").due_at == sh(2026, 11, 24, 19, 45)  # 15 min + 1 h 45 min


def test_daylight_saving_europe_berlin(sd: World) -> None:
    berlin_247 = catalog_services.create_calendar(
        customer=sd.customer_a,
        code="berlin-247",
        name="Berlin 7×24",
        time_zone="Europe/Berlin",
        intervals=[(day, 0, 1440) for day in range(7)],
        holidays_included=True,
    )
    _use_calendar(sd.customer_a, berlin_247)
    start = dt.datetime(2026, 10, 24, 22, 0, tzinfo=BERLIN)  # CEST, 20:00 UTC
    ticket = _open(sd, start, priority=2)  # resolution 8 h
    due = _clock(ticket, "resolution").due_at
    assert due == dt.datetime(2026, 10, 25, 4, 0, tzinfo=dt.UTC)  # 8 real hours
    assert due.astimezone(BERLIN).hour == 5  # the wall clock moved back one hour
    berlin_58 = catalog_services.create_calendar(
        customer=sd.customer_a,
        code="berlin-58",
        name="Berlin 5×8",
        time_zone="Europe/Berlin",
        intervals=[(d, s, e) for d in range(5) for s, e in ((480, 720), (840, 1080))],
    )
    _use_calendar(sd.customer_a, berlin_58)
    friday = _open(sd, dt.datetime(2026, 10, 23, 17, 0, tzinfo=BERLIN), priority=3)
    # Fri 17–18 CEST, then Mon 26 Oct 08–09 CET (UTC+1): working hours follow local time
    assert _clock(friday, "response").due_at == dt.datetime(2026, 10, 26, 8, 0, tzinfo=dt.UTC)


def test_pause_resume_is_exact_to_the_second(sd: World) -> None:
    ticket = _open(sd, sh(2026, 11, 23, 11, 0, 0), requester=sd.customer_a_user)  # 2 h
    services.transition(
        ticket,
        actor=sd.engineer_a,
        to="pending",
        pending_reason="customer",
        now=sh(2026, 11, 23, 11, 59, 17),
    )
    clock = _clock(ticket, "response")
    assert clock.elapsed_seconds == 59 * 60 + 17
    services.add_reply(ticket, actor=sd.customer_a_user, body="ok", now=sh(2026, 11, 23, 16, 0))
    clock = _clock(ticket, "response")
    # The customer's reply ended the wait; it is not the provider's response.
    assert clock.state == "running"
    # 7200 − 3557 = 3643 s remain from 16:00 → 17:00:43
    assert clock.due_at == sh(2026, 11, 23, 17, 0, 43)


def test_planning_fast_path_equals_the_general_clock_schedule(sd: World, calendars: dict) -> None:  # type: ignore[type-arg]
    """``plan_clocks`` (one calendar walk, rows built directly) gives every clock exactly the
    fields the general path (``_new_clock`` → ``_schedule``) gives it: instants over the
    lunch break, nights, weekends, the National Day holiday block and its 调休 Saturday,
    the year end, and the DST change of Europe/Berlin."""
    import random

    policy = ensure_default_policy(sd.customer_a)
    berlin = ServiceCalendar.objects.create(
        customer=sd.customer_a, code="ber", name="Berlin", time_zone="Europe/Berlin"
    )
    for weekday in range(5):
        catalog_services.add_interval(berlin, weekday=weekday, start_minute=480, end_minute=1080)
    rng = random.Random(4)
    starts = [sh(2026, 9, 30, 17, 59, 59), sh(2026, 10, 11, 8, 0), sh(2026, 12, 31, 17, 30)]
    starts += [
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(365 * 86400))
        for _ in range(150)
    ]
    from django.db import models
    from django.db.models import signals

    # The planning path builds rows without Model.__init__: nothing may hook into it.
    assert SlaClock.__init__ is models.Model.__init__
    assert not signals.pre_init.has_listeners(SlaClock)
    assert not signals.post_init.has_listeners(SlaClock)
    fields = [f.attname for f in SlaClock._meta.concrete_fields]
    compared = 0
    for calendar in (calendars["5x8"], berlin):
        policy = SlaPolicy.objects.select_related("calendar").get(pk=policy.pk)
        policy.calendar = calendar
        for n, start in enumerate(starts):
            ticket = Ticket(
                customer=sd.customer_a, sla_policy=policy, priority=1 + n % 4, number=f"T{n}"
            )
            planned = sla.plan_clocks(ticket, now=start)
            assert [c.metric for c in planned] == (
                ["response", "arrival", "resolution"] if n % 4 != 3 else ["response", "resolution"]
            )
            for clock in planned:
                general = sla._new_clock(
                    ticket, policy, clock.metric, clock.target_minutes, start, (75, 90)
                )
                assert set(clock.__dict__) >= set(fields)
                assert [getattr(clock, f) for f in fields] == [getattr(general, f) for f in fields]
                assert clock.ticket is ticket
                assert clock.calendar == calendar
                compared += 1
            assert ticket.resolution_due == planned[-1].due_at
    assert compared == 2 * (39 * 3 + 38 * 2 + 38 * 3 + 38 * 3)  # 153 starts, P4 has no arrival


def test_planned_clocks_are_saved_with_their_ticket(sd: World) -> None:
    """The rows built by the planning path save like any model row (bulk_create after the
    ticket got its primary key) and read back with the same values."""
    ticket = _open(sd, sh(2026, 11, 23, 11, 50), priority=2)
    rows = list(SlaClock.objects.filter(ticket=ticket).order_by("metric"))
    assert [
        (c.metric, c.due_at, c.warn_first_at, c.warn_second_at, c.next_check_at) for c in rows
    ] == [
        (
            "arrival",
            sh(2026, 11, 23, 17, 50),
            sh(2026, 11, 23, 16, 50),
            sh(2026, 11, 23, 17, 26),
            sh(2026, 11, 23, 16, 50),
        ),
        (
            "resolution",
            sh(2026, 11, 24, 11, 50),
            sh(2026, 11, 24, 9, 50),
            sh(2026, 11, 24, 11, 2),
            sh(2026, 11, 24, 9, 50),
        ),
        (
            "response",
            sh(2026, 11, 23, 14, 20),
            sh(2026, 11, 23, 14, 12, 30),
            sh(2026, 11, 23, 14, 17),
            sh(2026, 11, 23, 14, 12, 30),
        ),
    ]
    assert all(c.state == "running" and c.fence == 0 and c.elapsed_seconds == 0 for c in rows)
    assert all(c.started_at == sh(2026, 11, 23, 11, 50) for c in rows)
