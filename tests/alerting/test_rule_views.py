"""Routing and inhibition rules edited in the UI: create, edit, delete, and every refusal
writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from opsassure.alerting.models import InhibitionRule, Integration, RoutingRule
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.django_db


def _login(world: World, user_attr: str) -> Client:
    client = Client()
    assert client.login(username=getattr(world, user_attr).username, password=PASSWORD)
    return client


def _routing(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Databases page the DBA",
        "customer": world.customer_a.pk,
        "position": 10,
        "enabled": "on",
        "matchers": 'service="db"\ninstance=~"db-.*"',
        "severities": ["critical", "high"],
        "action": "incident",
        "auto_resolve": "on",
        "priority_critical": 1,
        "priority_high": 1,
        "priority_warning": 3,
        "priority_info": 4,
        **extra,
    }


def test_manager_creates_and_edits_a_routing_rule(world: World) -> None:
    client = _login(world, "manager")
    page = client.get("/alerting/routing-rules/new/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Priority for critical" in page.content.decode()
    response = client.post("/alerting/routing-rules/new/", _routing(world))
    assert response.status_code == 302
    rule = RoutingRule.objects.get()
    assert response["Location"] == f"/alerting/routing-rules/{rule.pk}/"
    assert rule.customer_id == world.customer_a.pk
    assert rule.matchers == ['service="db"', 'instance=~"db-.*"']
    assert rule.severities == ["critical", "high"]
    assert rule.priority_map == {"critical": 1, "high": 1, "warning": 3, "info": 4}
    assert (rule.position, rule.enabled, rule.auto_resolve) == (10, True, True)

    # Edit: the form shows the stored priorities; the customer cannot change.
    edit = client.get(f"/alerting/routing-rules/{rule.pk}/").content.decode()
    assert 'name="priority_high"' in edit
    changed = client.post(
        f"/alerting/routing-rules/{rule.pk}/",
        _routing(
            world,
            name="Databases (night)",
            customer=world.customer_b.pk,
            action="notify",
            priority_warning=2,
            enabled="",
        ),
    )
    assert changed.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.action, rule.enabled) == ("Databases (night)", "notify", False)
    assert rule.customer_id == world.customer_a.pk
    assert rule.priority_map["warning"] == 2

    listing = client.get("/alerting/routing-rules/").content.decode()
    assert f'href="/alerting/routing-rules/{rule.pk}/"' in listing
    assert 'href="/alerting/routing-rules/new/"' in listing


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"matchers": "not a matcher"}, "matchers"),
        ({"name": ""}, "name"),
        ({"action": "explode"}, "action"),
        ({"severities": ["fatal"]}, "severities"),
        ({"priority_critical": 9}, "priority_critical"),
    ],
)
def test_bad_routing_rule_is_refused_with_400(
    world: World, change: dict[str, Any], field: str
) -> None:
    client = _login(world, "manager")
    response = client.post("/alerting/routing-rules/new/", _routing(world, **change))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert RoutingRule.objects.count() == 0


def test_rule_cannot_use_another_customers_integration(world: World) -> None:
    other = Integration.objects.create(name="B's", kind="grafana", customer=world.customer_b)
    client = _login(world, "manager")
    response = client.post(
        "/alerting/routing-rules/new/",
        _routing(world, integration=other.pk),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response.context["form"].errors["integration"] == [
        "It belongs to another customer than the rule."
    ]
    assert RoutingRule.objects.count() == 0


def test_engineer_may_read_but_not_write_rules(world: World) -> None:
    rule = RoutingRule.objects.create(name="R", customer=world.customer_a)
    client = _login(world, "engineer_a")
    assert client.get("/alerting/routing-rules/").status_code == 200
    assert client.get("/alerting/routing-rules/new/").status_code == 403
    assert client.post("/alerting/routing-rules/new/", _routing(world)).status_code == 403
    assert client.post(f"/alerting/routing-rules/{rule.pk}/", _routing(world)).status_code == 403
    assert client.post(f"/alerting/routing-rules/{rule.pk}/delete/").status_code == 403
    assert list(RoutingRule.objects.values_list("name", flat=True)) == ["R"]


def test_customer_user_cannot_reach_rules(world: World) -> None:
    rule = RoutingRule.objects.create(name="R", customer=world.customer_a)
    client = _login(world, "customer_a_admin")
    assert client.get(f"/alerting/routing-rules/{rule.pk}/").status_code == 403
    assert client.post(f"/alerting/routing-rules/{rule.pk}/delete/").status_code == 403
    assert RoutingRule.objects.filter(pk=rule.pk).exists()


def test_manager_deletes_a_rule(world: World) -> None:
    rule = RoutingRule.objects.create(name="Old", customer=world.customer_a)
    client = _login(world, "manager")
    assert client.get(f"/alerting/routing-rules/{rule.pk}/").status_code == 200
    response = client.post(f"/alerting/routing-rules/{rule.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/alerting/routing-rules/"
    assert not RoutingRule.objects.exists()
    assert client.post(f"/alerting/routing-rules/{rule.pk}/delete/").status_code == 404
    assert client.get(f"/alerting/routing-rules/{rule.pk}/delete/").status_code == 405


def test_inhibition_rule_create_edit_and_refusals(world: World) -> None:
    client = _login(world, "manager")
    body = {
        "name": "Site down hides host alerts",
        "customer": world.customer_a.pk,
        "enabled": "on",
        "source_matchers": 'alertname="SiteDown"',
        "target_matchers": 'severity=~"warning|info"',
        "equal": "site, datacenter",
    }
    empty_target = client.post("/alerting/inhibition-rules/new/", {**body, "target_matchers": ""})
    assert empty_target.status_code == 400
    bad_label = client.post("/alerting/inhibition-rules/new/", {**body, "equal": "site, no way"})
    assert bad_label.status_code == 400
    assert "equal" in bad_label.context["form"].errors
    assert InhibitionRule.objects.count() == 0

    response = client.post("/alerting/inhibition-rules/new/", body)
    assert response.status_code == 302
    rule = InhibitionRule.objects.get()
    assert rule.source_matchers == ['alertname="SiteDown"']
    assert rule.target_matchers == ['severity=~"warning|info"']
    assert rule.equal == ["site", "datacenter"]
    edit = client.get(f"/alerting/inhibition-rules/{rule.pk}/").content.decode()
    assert 'value="site, datacenter"' in edit
    client.post(f"/alerting/inhibition-rules/{rule.pk}/", {**body, "equal": "site"})
    rule.refresh_from_db()
    assert rule.equal == ["site"]
    assert client.post(f"/alerting/inhibition-rules/{rule.pk}/delete/").status_code == 302
    assert not InhibitionRule.objects.exists()


def test_routing_rule_api_takes_an_escalation_policy(world: World) -> None:
    from opsassure.oncall.models import EscalationPolicy
    from tests.conftest import api_as

    policy = EscalationPolicy.objects.create(name="DBA", team=world.team_a)
    response = api_as(world.manager).post(
        "/api/v1/alerting/routing-rules/",
        {"name": "R", "customer": world.customer_a.pk, "escalation_policy": policy.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert RoutingRule.objects.get().escalation_policy_id == policy.pk
