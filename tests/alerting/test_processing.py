"""Enrichment, routing, suppression (silences, maintenance, inhibition) and flapping."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from opsassure.alerting import services
from opsassure.alerting.models import (
    Alert,
    AlertEvent,
    AlertGroup,
    InhibitionRule,
    Integration,
    RoutingRule,
)
from opsassure.alerting.suppression import occurrence_active
from opsassure.cmdb import services as cmdb_services
from opsassure.cmdb.builtin import seed_builtins
from opsassure.cmdb.models import CIType, ConfigurationItem
from opsassure.servicedesk.models import Ticket
from tests.alerting.helpers import am_alert, am_payload, post
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _ci(world: World, name: str, hostname: str = "", ip: str = "") -> ConfigurationItem:
    seed_builtins()
    return cmdb_services.create_ci(
        actor=None,
        customer_id=world.customer_a.pk,
        ci_type=CIType.objects.get(code="server"),
        name=name,
        hostname=hostname,
        ip_addresses=[ip] if ip else [],
        owner_team=world.team_a,
    )


def test_cmdb_enrichment_by_instance_hostname_and_ip(
    client: Client, world: World, am: Integration
) -> None:
    web = _ci(world, "WEB01", hostname="web-01.example.cn")
    db = _ci(world, "DB01", ip="10.1.2.3")
    post(
        client,
        am,
        am_payload(
            am_alert(instance="web-01.example.cn:9100", fingerprint="f1"),
            am_alert(instance="10.1.2.3:9100", fingerprint="f2"),
        ),
    )
    by_fp = {a.fingerprint: a.ci_id for a in Alert.objects.all()}
    assert by_fp == {"f1": web.pk, "f2": db.pk}
    group = AlertGroup.objects.get()
    assert group.ci_id == web.pk
    assert group.owner_team_id == world.team_a.pk
    assert group.incident is not None
    assert group.incident.team_id == world.team_a.pk
    assert list(group.incident.cis.values_list("pk", flat=True)) == [web.pk]


def test_provider_wide_integration_takes_customer_from_ci(client: Client, world: World) -> None:
    from opsassure.catalog.policies import ensure_default_policy

    ensure_default_policy(world.customer_a)
    shared = Integration.objects.create(name="shared", kind="alertmanager", customer=None)
    web = _ci(world, "WEB01", hostname="web-01")
    post(
        client, shared, am_payload(am_alert(instance="web-01:9100"), am_alert(instance="nowhere:1"))
    )
    alerts = {a.labels["instance"]: (a.customer_id, a.ci_id) for a in Alert.objects.all()}
    assert alerts == {"web-01:9100": (world.customer_a.pk, web.pk), "nowhere:1": (None, None)}
    # one group per customer (the customer is part of the key): the unknown host has none
    incidents = {g.customer_id: g.incident_id is not None for g in AlertGroup.objects.all()}
    assert incidents == {world.customer_a.pk: True, None: False}
    error = AlertEvent.objects.get(kind="error")
    assert "No customer" in error.message


def test_routing_rule_order_drop_and_notify(client: Client, world: World, am: Integration) -> None:
    RoutingRule.objects.create(name="drop test", position=1, matchers=['env="test"'], action="drop")
    RoutingRule.objects.create(
        name="warnings notify", position=2, severities=["warning"], action="notify"
    )
    RoutingRule.objects.create(
        name="p2 for critical",
        position=3,
        matchers=['alertname=~"High.*"'],
        priority_map={"critical": 2},
        action="incident",
    )
    post(client, am, am_payload(am_alert(fingerprint="t1", env="test"), group_key="g1"))
    post(client, am, am_payload(am_alert(fingerprint="w1", severity="warning"), group_key="g2"))
    post(client, am, am_payload(am_alert(fingerprint="c1"), group_key="g3"))
    actions = dict(AlertGroup.objects.values_list("group_key", "action"))
    assert actions == {"sender:g1": "drop", "sender:g2": "notify", "sender:g3": "incident"}
    assert AlertEvent.objects.filter(kind="dropped").count() == 1
    ticket = Ticket.objects.get()
    assert ticket.priority == 2
    assert AlertGroup.objects.get(group_key="sender:g3").incident == ticket


def test_attach_reuses_open_incident_of_same_ci(
    client: Client, world: World, am: Integration
) -> None:
    _ci(world, "WEB01", hostname="web-01")
    RoutingRule.objects.create(name="attach", action="attach")
    post(client, am, am_payload(am_alert(name="A", instance="web-01:1"), group_key="ga"))
    post(client, am, am_payload(am_alert(name="B", instance="web-01:1"), group_key="gb"))
    assert Ticket.objects.count() == 1
    assert AlertGroup.objects.filter(incident=Ticket.objects.get()).count() == 2
    assert AlertEvent.objects.filter(kind="incident_attached").count() == 1
    # the incident stays open while the other group still fires
    post(
        client,
        am,
        am_payload(am_alert(name="A", instance="web-01:1", status="resolved"), group_key="ga"),
    )
    assert Ticket.objects.get().status != "resolved"
    post(
        client,
        am,
        am_payload(am_alert(name="B", instance="web-01:1", status="resolved"), group_key="gb"),
    )
    assert Ticket.objects.get().status == "resolved"


def test_no_auto_resolve_leaves_incident_open_with_note(
    client: Client, world: World, am: Integration
) -> None:
    RoutingRule.objects.create(name="keep", action="incident", auto_resolve=False)
    post(client, am, am_payload(am_alert(fingerprint="k1")))
    post(client, am, am_payload(am_alert(fingerprint="k1", status="resolved")))
    ticket = Ticket.objects.get()
    assert ticket.status == "new"
    assert ticket.events.filter(is_public=False, body__contains="resolved").count() == 1


def test_silence_suppresses_and_is_visible(client: Client, world: World, am: Integration) -> None:
    now = timezone.now()
    services.create_silence(
        customer=world.customer_a,
        matchers_=['alertname="HighCPU"', 'instance=~"web-.*"'],
        starts_at=now - dt.timedelta(minutes=1),
        ends_at=now + dt.timedelta(hours=1),
        comment="deploy",
        actor=world.manager,
    )
    post(client, am, am_payload(am_alert(fingerprint="s1")))
    alert = Alert.objects.get()
    assert alert.suppressed is True
    assert alert.suppressed_by["kind"] == "silence"
    group = AlertGroup.objects.get()
    assert (group.state, group.action, group.incident_id) == ("suppressed", "", None)
    assert Ticket.objects.count() == 0


def test_silence_end_releases_alert_in_sweep(client: Client, world: World, am: Integration) -> None:
    from opsassure.alerting.processing import sweep

    now = timezone.now()
    silence = services.create_silence(
        customer=None,
        matchers_=['alertname="HighCPU"'],
        starts_at=now - dt.timedelta(minutes=5),
        ends_at=now + dt.timedelta(minutes=5),
        comment="short",
        actor=None,
    )
    post(client, am, am_payload(am_alert(fingerprint="s2")))
    assert Ticket.objects.count() == 0
    silence.ends_at = now - dt.timedelta(seconds=1)
    silence.save()
    assert sweep() == 1
    group = AlertGroup.objects.get()
    assert group.state == "firing"
    assert group.incident is not None


def test_new_silence_mutes_alerts_already_firing_and_expiry_releases_them(
    client: Client, world: World, am: Integration, django_capture_on_commit_callbacks
) -> None:
    post(client, am, am_payload(am_alert(name="HighMemory", fingerprint="early"), group_key="m"))
    post(client, am, am_payload(am_alert(name="DiskFull", fingerprint="other"), group_key="d"))
    muted = Alert.objects.get(fingerprint="early")
    assert muted.suppressed is False
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        silence = services.create_silence(
            customer=world.customer_a,
            matchers_=['alertname="HighMemory"'],
            starts_at=now - dt.timedelta(minutes=1),
            ends_at=now + dt.timedelta(hours=1),
            comment="known, fix tonight",
            actor=world.manager,
        )
    muted.refresh_from_db()
    assert muted.suppressed is True
    expected = {"kind": "silence", "id": silence.pk, "name": "known, fix tonight"}
    assert muted.suppressed_by == expected
    assert muted.group is not None
    assert muted.group.state == "suppressed"
    assert muted.group.events.filter(kind="suppressed").count() == 1
    assert Alert.objects.get(fingerprint="other").suppressed is False
    # Expiring it (the API's expire, the UI's button) releases the alert at once.
    with django_capture_on_commit_callbacks(execute=True):
        silence.ends_at = timezone.now()
        silence.save(update_fields=["ends_at", "updated_at"])
    muted.refresh_from_db()
    assert muted.suppressed is False
    assert muted.group is not None
    assert muted.group.state in ("firing", "acknowledged")


def test_customer_silence_does_not_mute_another_customers_alerts(
    client: Client, world: World, am: Integration, django_capture_on_commit_callbacks
) -> None:
    post(client, am, am_payload(am_alert(name="HighMemory", fingerprint="a1")))
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        services.create_silence(
            customer=world.customer_b,
            matchers_=['alertname="HighMemory"'],
            starts_at=now - dt.timedelta(minutes=1),
            ends_at=now + dt.timedelta(hours=1),
            comment="theirs",
            actor=world.manager,
        )
    assert Alert.objects.get(fingerprint="a1").suppressed is False


def test_silence_validation() -> None:
    now = timezone.now()
    with pytest.raises(services.AlertingError) as caught:
        services.create_silence(
            customer=None,
            matchers_=["bad matcher"],
            starts_at=now,
            ends_at=now - dt.timedelta(hours=1),
            comment="",
            actor=None,
        )
    assert set(caught.value.fields) == {"matchers", "ends_at", "comment"}


def test_maintenance_on_ci_suppresses_dependents(
    client: Client, world: World, am: Integration
) -> None:
    host = _ci(world, "HOST01", hostname="host-01")
    vm = _ci(world, "VM01", hostname="vm-01")
    other = _ci(world, "OTHER", hostname="other-01")
    cmdb_services.add_relation(actor=None, source=vm, target=host, relation_type="runs_on")
    now = timezone.now()
    services.create_maintenance_window(
        name="host firmware",
        customer=world.customer_a,
        cis=[host],
        starts_at=now - dt.timedelta(minutes=1),
        ends_at=now + dt.timedelta(hours=2),
    )
    post(
        client,
        am,
        am_payload(
            am_alert(instance="host-01:1", fingerprint="m1"),
            am_alert(instance="vm-01:1", fingerprint="m2"),
            am_alert(instance="other-01:1", fingerprint="m3"),
        ),
    )
    suppressed = dict(Alert.objects.values_list("fingerprint", "suppressed"))
    assert suppressed == {"m1": True, "m2": True, "m3": False}
    assert other.pk == Alert.objects.get(fingerprint="m3").ci_id


def test_recurring_weekly_window_in_its_time_zone() -> None:
    from opsassure.alerting.models import MaintenanceWindow

    shanghai = dt.timezone(dt.timedelta(hours=8))
    # Every Sunday 02:00–04:00 Asia/Shanghai, from 2026-11-01 (a Sunday).
    window = MaintenanceWindow(
        name="weekly",
        starts_at=dt.datetime(2026, 11, 1, 2, 0, tzinfo=shanghai),
        ends_at=dt.datetime(2026, 11, 1, 4, 0, tzinfo=shanghai),
        recurrence="weekly",
        weekdays=[6],
        time_zone="Asia/Shanghai",
    )
    at = lambda *a: dt.datetime(*a, tzinfo=shanghai)  # noqa: E731
    assert occurrence_active(window, at(2026, 11, 29, 3, 0)) is True
    assert occurrence_active(window, at(2026, 11, 29, 4, 0)) is False
    assert occurrence_active(window, at(2026, 11, 28, 3, 0)) is False  # Saturday
    assert occurrence_active(window, at(2026, 10, 25, 3, 0)) is False  # before the series
    window.repeat_until = dt.date(2026, 11, 15)
    assert occurrence_active(window, at(2026, 11, 29, 3, 0)) is False


def test_inhibition_rule(client: Client, world: World, am: Integration) -> None:
    InhibitionRule.objects.create(
        name="node down hides its alerts",
        source_matchers=['alertname="NodeDown"'],
        target_matchers=['severity=~"warning|high"'],
        equal=["instance"],
    )
    post(client, am, am_payload(am_alert(name="NodeDown", fingerprint="n1"), group_key="a"))
    post(
        client,
        am,
        am_payload(
            am_alert(name="DiskSlow", severity="warning", fingerprint="n2"),
            am_alert(name="DiskSlow", severity="warning", instance="web-09:1", fingerprint="n3"),
            group_key="b",
        ),
    )
    suppressed = dict(Alert.objects.values_list("fingerprint", "suppressed"))
    assert suppressed == {"n1": False, "n2": True, "n3": False}
    assert (
        Alert.objects.get(fingerprint="n2").suppressed_by["source"]
        == Alert.objects.get(fingerprint="n1").pk
    )


def test_flapping_holds_routing(client: Client, world: World, am: Integration) -> None:
    am.flap_changes = 4
    am.flap_window_minutes = 30
    am.save()
    now = timezone.now()

    def at(minutes: int) -> str:
        return (now - dt.timedelta(minutes=minutes)).isoformat()

    for i in range(3):
        post(client, am, am_payload(am_alert(fingerprint="fl", starts=at(20 - i * 5))))
        post(
            client,
            am,
            am_payload(am_alert(fingerprint="fl", status="resolved", starts=at(20 - i * 5))),
        )
    post(client, am, am_payload(am_alert(fingerprint="fl", starts=at(1))))
    open_group = AlertGroup.objects.get(is_open=True)
    assert open_group.flapping is True
    assert open_group.incident_id is None
    assert open_group.action == ""
    assert AlertEvent.objects.filter(kind="flapping", group=open_group).count() == 1
    # Earlier cycles (before the threshold) opened incidents: 2 of them
    assert Ticket.objects.count() == 2
