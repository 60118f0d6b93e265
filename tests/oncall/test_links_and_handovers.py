"""Signed action links (GET confirms, POST acts, idempotent) and the handover log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import signing
from django.test import Client, override_settings
from django.utils import timezone

from opsassure.notify.models import Notification
from opsassure.oncall import handovers, links, services
from opsassure.oncall.errors import InvalidInputError, NotPermittedError
from opsassure.oncall.models import EscalationRun, Handover
from tests.conftest import World
from tests.oncall.conftest import Oncall

pytestmark = pytest.mark.django_db


def _run(oncall: Oncall, world: World) -> EscalationRun:
    return services.start_escalation(
        policy=oncall.policy,
        customer=world.customer_a,
        title="Core switch down",
        severity="critical",
    )


def _path(url: str) -> str:
    return url.split("http://127.0.0.1:8000", 1)[-1]


def test_get_only_confirms_post_acknowledges_second_click_says_who(
    oncall: Oncall, world: World
) -> None:
    run = _run(oncall, world)
    url = _path(links.action_url(run, "ack", oncall.first))
    client = Client()
    page = client.get(url)
    assert page.status_code == 200
    assert b'data-testid="confirm-form"' in page.content
    run.refresh_from_db()
    assert run.state == "active"  # a link scanner's GET changes nothing
    done = client.post(url)
    assert done.status_code == 200
    assert b'data-testid="done"' in done.content
    run.refresh_from_db()
    assert (run.state, run.acknowledged_by_id, run.acknowledged_via) == (
        "acknowledged",
        oncall.first.pk,
        "link",
    )
    other = _path(links.action_url(run, "ack", oncall.second))
    again = client.post(other)
    assert again.status_code == 200
    assert f"Already acknowledged by {oncall.first}.".encode() in again.content
    run.refresh_from_db()
    assert run.acknowledged_by_id == oncall.first.pk


def test_resolve_and_escalate_links(oncall: Oncall, world: World) -> None:
    run = _run(oncall, world)
    client = Client()
    assert client.post(_path(links.action_url(run, "escalate", oncall.first))).status_code == 200
    assert (
        run.steps.filter(position=1, state="pending").count() == 0
    )  # first attempt brought forward
    assert client.post(_path(links.action_url(run, "resolve", oncall.second))).status_code == 200
    run.refresh_from_db()
    assert (run.state, run.resolved_by_id) == ("resolved", oncall.second.pk)
    page = client.get(_path(links.action_url(run, "escalate", oncall.first)))
    assert b'data-testid="already"' in page.content


def test_bad_and_expired_links_are_a_clear_400(oncall: Oncall, world: World) -> None:
    run = _run(oncall, world)
    client = Client()
    token = links.make_token(run, "ack", oncall.first)
    assert client.post(f"/oncall/act/{token}x/").status_code == 400
    forged = signing.dumps(
        {"r": run.pk, "a": "ack", "u": oncall.first.pk}, salt="other", compress=True
    )
    assert client.post(f"/oncall/act/{forged}/").status_code == 400
    with override_settings(ONCALL_ACTION_LINK_HOURS=0):
        import time

        time.sleep(1.1)
        response = client.post(f"/oncall/act/{token}/")
    assert response.status_code == 400
    assert b"This link has expired." in response.content
    run.refresh_from_db()
    assert run.state == "active"


def test_the_message_carries_the_links(oncall: Oncall, world: World) -> None:
    from opsassure.oncall import escalation

    run = _run(oncall, world)
    escalation.sweep(timezone.now())
    note = Notification.objects.get()
    ack_path = note.body.split("/oncall/act/", 1)[1].split()[0]
    link = links.read_token(ack_path.rstrip("/"))
    assert (link.run.pk, link.action, link.user.pk) == (run.pk, "ack", note.user_id)


# --- handovers -------------------------------------------------------------------------------


def test_write_and_acknowledge_a_handover(oncall: Oncall) -> None:
    at = timezone.now()
    handover = handovers.write_handover(
        oncall.schedule,
        outgoing=oncall.first,
        incoming=oncall.second,
        open_issues="db01 disk 91%",
        handoff_at=at,
    )
    assert (handover.state, handover.incoming_id, handover.handoff_at) == (
        "pending",
        oncall.second.pk,
        at,
    )
    with pytest.raises(NotPermittedError):
        handovers.acknowledge_handover(handover, user=oncall.first)
    acked = handovers.acknowledge_handover(handover, user=oncall.second)
    assert (acked.state, acked.acknowledged_by_id) == ("acknowledged", oncall.second.pk)


def test_the_incoming_person_defaults_to_the_next_shift(oncall: Oncall) -> None:
    handover = handovers.write_handover(oncall.schedule, outgoing=oncall.first, notes="quiet night")
    shift = services.current_shift(oncall.schedule)
    assert shift is not None
    assert handover.handoff_at == shift.end
    assert [handover.incoming] == services.who_is_on_call(oncall.schedule, shift.end)


def test_an_empty_handover_is_refused(oncall: Oncall) -> None:
    with pytest.raises(InvalidInputError):
        handovers.write_handover(
            oncall.schedule, outgoing=oncall.first, incoming=oncall.second, notes="  "
        )
    assert Handover.objects.count() == 0


def test_unacknowledged_handovers_go_to_the_lead_once(
    oncall: Oncall, world: World, settings: Any
) -> None:
    settings.ONCALL_HANDOVER_ACK_MINUTES = 30
    handover = handovers.write_handover(
        oncall.schedule, outgoing=oncall.first, incoming=oncall.second, notes="x"
    )
    fresh = handovers.write_handover(
        oncall.schedule, outgoing=oncall.first, incoming=oncall.second, notes="y"
    )
    Handover.objects.filter(pk=handover.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=31)
    )
    assert handovers.escalate_overdue() == [handover.pk]
    assert handovers.escalate_overdue() == []
    assert list(Notification.objects.values_list("dedup_key", "address")) == [
        (f"handover:{handover.pk}:{oncall.lead.pk}:email", "lead_a@example.cn")
    ]
    handover.refresh_from_db()
    fresh.refresh_from_db()
    assert (handover.state, fresh.state) == ("escalated", "pending")
    # Still acknowledgeable after the escalation.
    assert handovers.acknowledge_handover(handover, user=oncall.second).state == "acknowledged"


def test_without_a_lead_the_service_managers_of_the_team_hear_of_it(
    oncall: Oncall, world: World
) -> None:
    world.team_a.lead = None
    world.team_a.save(update_fields=["lead"])
    handover = handovers.write_handover(
        oncall.schedule, outgoing=oncall.first, incoming=oncall.second, notes="x"
    )
    Handover.objects.filter(pk=handover.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=2)
    )
    handovers.escalate_overdue()
    assert list(Notification.objects.values_list("user_id", flat=True)) == [oncall.lead.pk]
