"""Paging through oncall and notifying through notify (the paging module)."""

from __future__ import annotations

import pytest
from django.test import Client, TestCase

from opsassure.alerting.models import AlertEvent, AlertGroup, Integration, RoutingRule
from opsassure.notify.models import Destination, Notification
from opsassure.oncall import services as oncall
from opsassure.oncall.models import EscalationPolicy, EscalationPolicyStep, EscalationRun
from tests.alerting.helpers import am_alert, am_payload, post
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _policy(world: World) -> EscalationPolicy:
    policy = EscalationPolicy.objects.create(team=world.team_a, name="Team A paging")
    EscalationPolicyStep.objects.create(
        policy=policy,
        position=0,
        target=EscalationPolicyStep.Target.USER,
        user=world.engineer_a,
        wait_minutes=5,
    )
    EscalationPolicyStep.objects.create(
        policy=policy,
        position=1,
        target=EscalationPolicyStep.Target.USER,
        user=world.manager,
        wait_minutes=10,
    )
    return policy


def test_rule_pages_and_resolution_stops_the_run(
    client: Client, world: World, am: Integration
) -> None:
    RoutingRule.objects.create(name="page", action="incident", escalation_policy=_policy(world))
    post(client, am, am_payload(am_alert(fingerprint="p1")))
    group = AlertGroup.objects.get()
    run = EscalationRun.objects.get()
    assert (run.source_type, run.source_id, run.ticket_id) == (
        "alerting.alertgroup",
        str(group.pk),
        group.incident_id,
    )
    assert group.escalation_id == run.pk
    assert AlertEvent.objects.filter(group=group, kind="paged").count() == 1
    post(client, am, am_payload(am_alert(fingerprint="p1", status="resolved")))
    run.refresh_from_db()
    assert run.state == "resolved"
    assert run.resolved_via == "system"


def test_oncall_acknowledgement_updates_the_group(
    client: Client, world: World, am: Integration
) -> None:
    RoutingRule.objects.create(name="page", action="incident", escalation_policy=_policy(world))
    post(client, am, am_payload(am_alert(fingerprint="p2")))
    run = EscalationRun.objects.get()
    with TestCase.captureOnCommitCallbacks(execute=True):
        oncall.acknowledge(run, user=world.engineer_a, via="link")
    group = AlertGroup.objects.get()
    assert group.state == "acknowledged"
    assert group.acknowledged_by_id == world.engineer_a.pk
    assert AlertEvent.objects.filter(group=group, kind="acknowledged").count() == 1


def test_group_acknowledged_in_api_acknowledges_the_run(
    client: Client, world: World, am: Integration
) -> None:
    from tests.conftest import api_as

    RoutingRule.objects.create(name="page", action="incident", escalation_policy=_policy(world))
    post(client, am, am_payload(am_alert(fingerprint="p3")))
    group = AlertGroup.objects.get()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api_as(world.engineer_a).post(f"/api/v1/alerting/groups/{group.pk}/acknowledge/")
    assert response.status_code == 200
    assert response.json()["state"] == "acknowledged"
    run = EscalationRun.objects.get()
    assert (run.state, run.acknowledged_via) == ("acknowledged", "api")
    # the signal coming back from oncall does not add a second entry
    assert AlertEvent.objects.filter(group=group, kind="acknowledged").count() == 1


def test_destination_notified_on_open_and_resolve_but_held_while_flapping(
    client: Client, world: World, am: Integration
) -> None:
    destination = Destination.objects.create(
        customer=world.customer_a, name="ops webhook", kind="webhook", url="http://127.0.0.1:9/hook"
    )
    RoutingRule.objects.create(name="notify", action="notify", destination=destination)
    post(client, am, am_payload(am_alert(fingerprint="d1")))
    group = AlertGroup.objects.get()
    assert list(Notification.objects.values_list("dedup_key", flat=True)) == [
        f"alertgroup:{group.pk}:open:{destination.pk}"
    ]
    post(client, am, am_payload(am_alert(fingerprint="d1", status="resolved")))
    assert Notification.objects.count() == 2
    assert (
        Notification.objects.filter(
            source_type="alerting.alertgroup", source_id=str(group.pk)
        ).count()
        == 2
    )
