"""OLA clocks, the periodic tasks and their schedules, backdated history, locks, downloads."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django_celery_beat.models import PeriodicTask

from opsassure.catalog.models import OlaTarget, Service, SlaPolicy
from opsassure.core.models import Team
from opsassure.servicedesk import attachments, downloads, services, sla, tasks
from opsassure.servicedesk.models import SlaClock, Ticket, TicketEvent
from tests.conftest import World, api_as
from tests.servicedesk.conftest import sh

pytestmark = pytest.mark.django_db

urlpatterns = [path("dl/<int:pk>/", downloads.attachment_download, name="sd-test-download")]


def _olas(policy: SlaPolicy, team: Team, response: int, resolution: int) -> None:
    OlaTarget.objects.create(
        policy=policy,
        team=team,
        priority=3,
        response_minutes=response,
        resolution_minutes=resolution,
    )


def test_ola_clocks_follow_the_team(sd: World, policy_a: SlaPolicy) -> None:
    team_c = Team.objects.create(code="TC", name="Team C 网络组")
    team_c.customers.add(sd.customer_a)
    _olas(policy_a, sd.team_a, 30, 600)
    _olas(policy_a, team_c, 60, 300)
    ticket = services.create_ticket(
        actor=sd.manager,
        customer=sd.customer_a,
        title="核心交换机丢包",
        team=sd.team_a,
        now=sh(2026, 11, 23, 9, 0),
    )
    ola = {c.metric: c for c in SlaClock.objects.filter(ticket=ticket, team=sd.team_a)}
    assert ola["response"].due_at == sh(2026, 11, 23, 9, 30)
    assert ola["resolution"].due_at == sh(2026, 11, 24, 11, 0)  # 10 h: Mon 7 + Tue 3
    # The SLA deadline on the ticket is the customer's, not the team's.
    assert ticket.resolution_due == sh(2026, 11, 26, 9, 0)
    services.add_reply(ticket, actor=sd.manager, body="已受理", now=sh(2026, 11, 23, 9, 10))
    services.assign(ticket, actor=sd.manager, team=team_c, now=sh(2026, 11, 23, 10, 0))
    old = {c.metric: c for c in SlaClock.objects.filter(ticket=ticket, team=sd.team_a)}
    assert {c.state for c in old.values()} == {"stopped"}
    assert old["resolution"].elapsed_seconds == 3600
    new = {c.metric: c for c in SlaClock.objects.filter(ticket=ticket, team=team_c)}
    assert set(new) == {"resolution"}  # already responded: no response OLA for team C
    assert new["resolution"].due_at == sh(2026, 11, 23, 17, 0)  # 5 h from 10:00, lunch
    # Back to team A: its OLA clock runs again with its banked hour.
    services.assign(ticket, actor=sd.manager, team=sd.team_a, now=sh(2026, 11, 23, 11, 0))
    back = SlaClock.objects.get(ticket=ticket, team=sd.team_a, metric="resolution")
    assert (back.state, back.elapsed_seconds) == ("running", 3600)
    assert back.due_at == sh(2026, 11, 24, 12, 0)  # 9 h left: Mon 11–12, 14–18 · Tue 08–12
    assert SlaClock.objects.get(ticket=ticket, team=team_c).state == "stopped"


def test_ola_breach_does_not_breach_the_sla(sd: World, policy_a: SlaPolicy) -> None:
    _olas(policy_a, sd.team_a, 30, 600)
    ticket = services.create_ticket(
        actor=sd.manager,
        customer=sd.customer_a,
        title="x",
        team=sd.team_a,
        now=sh(2026, 11, 23, 9, 0),
    )
    fired = sla.sweep(sh(2026, 11, 23, 9, 31)).fired
    ola_response = SlaClock.objects.get(ticket=ticket, team=sd.team_a, metric="response")
    assert fired == [
        (ola_response.pk, "warning_1"),
        (ola_response.pk, "warning_2"),
        (ola_response.pk, "breach"),
    ]
    ticket.refresh_from_db()
    assert (ticket.sla_breached, ticket.support_level) == (False, 1)


def test_tasks_run_and_schedules_are_seeded(sd: World) -> None:
    names = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {"opsassure.servicedesk.tasks.sla_sweep", "opsassure.servicedesk.tasks.auto_close"} <= (
        names
    )
    tasks.ensure_schedules()  # idempotent
    assert PeriodicTask.objects.filter(task__startswith="opsassure.servicedesk.").count() == 2
    services.create_ticket(
        actor=sd.manager, customer=sd.customer_a, title="old", now=sh(2025, 3, 3, 9, 0)
    )
    assert tasks.sla_sweep.delay().get() == 3 * 3  # response, arrival, resolution × 3
    assert tasks.sla_sweep.delay().get() == 0
    assert tasks.auto_close.delay().get() == 0


def test_history_with_explicit_times_is_backdated(sd: World) -> None:
    ticket = services.create_ticket(
        actor=sd.manager, customer=sd.customer_a, title="去年的", now=sh(2025, 6, 3, 9, 0)
    )
    services.transition(ticket, actor=sd.manager, to="in_progress", now=sh(2025, 6, 3, 9, 30))
    times = list(TicketEvent.objects.filter(ticket=ticket).values_list("created_at", flat=True))
    assert times == [sh(2025, 6, 3, 9, 0), sh(2025, 6, 3, 9, 30)]
    assert Ticket.objects.get(pk=ticket.pk).created_at == sh(2025, 6, 3, 9, 0)


def test_moves_lock_the_ticket_and_the_sweep_claims_with_a_fence(sd: World) -> None:
    ticket = services.create_ticket(
        actor=sd.manager, customer=sd.customer_a, title="x", now=sh(2026, 11, 23, 9, 0)
    )
    with CaptureQueriesContext(connection) as queries:
        services.transition(ticket, actor=sd.manager, to="in_progress")
    sql = [q["sql"] for q in queries]
    if connection.vendor == "postgresql":
        assert any("FOR UPDATE" in q and "servicedesk_ticket" in q for q in sql)
        assert any("FOR UPDATE" in q and "servicedesk_slaclock" in q for q in sql)
    with CaptureQueriesContext(connection) as queries:
        sla.sweep(sh(2026, 11, 30, 9, 0))
    claims = [
        q["sql"]
        for q in queries
        if q["sql"].startswith("UPDATE") and "servicedesk_slaclock" in q["sql"]
    ]
    assert claims
    assert all('"fence" = ' in q for q in claims)


def test_ui_download_view_scopes_and_hides_private_files(sd: World, settings: Any) -> None:
    settings.ROOT_URLCONF = __name__
    ticket = services.create_ticket(
        actor=sd.manager, customer=sd.customer_a, title="x", requester=sd.customer_a_user
    )
    public = attachments.add_attachment(
        ticket, actor=sd.manager, upload=SimpleUploadedFile("a.txt", b"public")
    )
    private = attachments.add_attachment(
        ticket, actor=sd.manager, upload=SimpleUploadedFile("b.txt", b"private"), public=False
    )
    customer = api_as(sd.customer_a_user)
    response = customer.get(f"/dl/{public.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"public"
    assert customer.get(f"/dl/{private.pk}/").status_code == 404
    assert api_as(sd.customer_b_user).get(f"/dl/{public.pk}/").status_code == 404
    assert api_as(sd.manager).get(f"/dl/{private.pk}/").status_code == 200


def test_remote_service_has_no_arrival_clock(sd: World, policy_a: SlaPolicy) -> None:
    # The default policy has an arrival target for P1; a remote-only service never sends
    # anyone on site, an on-site service does.
    remote = Service.objects.create(
        customer=sd.customer_a, code="vpn", name="VPN 远程支持", delivery_mode="remote"
    )
    onsite = Service.objects.create(
        customer=sd.customer_a, code="desk", name="桌面运维", delivery_mode="onsite"
    )
    metrics = {}
    for service in (remote, onsite):
        ticket = services.create_ticket(
            actor=sd.manager,
            customer=sd.customer_a,
            title=f"{service.name} 故障",
            service=service,
            impact=1,
            urgency=1,
            now=sh(2026, 11, 23, 9, 0),
        )
        assert ticket.priority == 1
        metrics[service.code] = set(
            SlaClock.objects.filter(ticket=ticket, team=None).values_list("metric", flat=True)
        )
    assert metrics == {
        "vpn": {"response", "resolution"},
        "desk": {"response", "arrival", "resolution"},
    }


def test_a_late_stop_marks_the_ticket_breached(sd: World, policy_a: SlaPolicy) -> None:
    ticket = services.create_ticket(
        actor=sd.manager, customer=sd.customer_a, title="打印机卡纸", now=sh(2026, 11, 23, 9, 0)
    )
    assert ticket.sla_breached is False
    # P3 response target 2 h: answered at 14:30 (09–12 + 14–14:30 = 3.5 h), no sweep ran.
    services.add_reply(ticket, actor=sd.manager, body="已受理", now=sh(2026, 11, 23, 14, 30))
    ticket.refresh_from_db()
    assert ticket.sla_breached is True
    assert SlaClock.objects.get(ticket=ticket, team=None, metric="response").breached is True
