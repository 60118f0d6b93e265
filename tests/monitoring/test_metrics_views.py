"""Metrics pages: rules list/create/edit/delete, agents, agent tokens (shown once)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from opsassure.core.models import User
from opsassure.monitoring import tokens
from opsassure.monitoring.models import Agent, AgentToken, ThresholdRule
from tests.conftest import World
from tests.monitoring.metrics_fixtures import grant_metrics_roles

pytestmark = pytest.mark.django_db


def browser(user: User) -> Client:
    """A browser-like client (form posts, English pages)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


FORM = {
    "name": "Disk nearly full",
    "enabled": "on",
    "metric": "disk_used_percent",
    "dimension": "/",
    "operator": ">",
    "threshold": "90",
    "for_seconds": "300",
    "recovery_threshold": "85",
    "severity": "critical",
    "labels": "team=storage",
}


def test_rule_pages_create_edit_delete_and_refuse_with_400(world: World) -> None:
    grant_metrics_roles()
    client = browser(world.fresh(world.engineer_a))
    assert client.get(reverse("monitoring:rule-create")).status_code == 200
    refused = client.post(
        reverse("monitoring:rule-create"),
        {**FORM, "customer": world.customer_a.pk, "recovery_threshold": "95"},
    )
    assert refused.status_code == 400
    assert "Must not be above the threshold" in refused.content.decode()
    no_customer = client.post(reverse("monitoring:rule-create"), FORM)
    assert no_customer.status_code == 400
    assert ThresholdRule.objects.count() == 0

    created = client.post(
        reverse("monitoring:rule-create"), {**FORM, "customer": world.customer_a.pk}
    )
    assert created.status_code == 302
    rule = ThresholdRule.objects.get()
    assert (rule.customer_id, rule.metric, rule.dimension, rule.threshold, rule.labels) == (
        world.customer_a.pk,
        "disk_used_percent",
        "/",
        90.0,
        {"team": "storage"},
    )
    page = client.get(reverse("monitoring:rules")).content.decode()
    assert "Disk nearly full" in page
    assert reverse("monitoring:rule-edit", args=[rule.pk]) in page

    edit_url = reverse("monitoring:rule-edit", args=[rule.pk])
    assert client.get(edit_url).status_code == 200
    saved = client.post(edit_url, {**FORM, "threshold": "95", "recovery_threshold": ""})
    assert saved.status_code == 302
    rule.refresh_from_db()
    assert (rule.threshold, rule.recovery_threshold, rule.customer_id) == (
        95.0,
        None,
        world.customer_a.pk,
    )
    assert client.post(reverse("monitoring:rule-delete", args=[rule.pk])).status_code == 302
    assert ThresholdRule.objects.count() == 0


def test_rule_pages_of_another_customer_are_404_and_outsiders_403(world: World) -> None:
    grant_metrics_roles()
    theirs = ThresholdRule.objects.create(
        customer=world.customer_b, name="B rule", metric="load1", operator=">", threshold=4
    )
    client = browser(world.fresh(world.engineer_a))
    assert client.get(reverse("monitoring:rule-edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("monitoring:rule-delete", args=[theirs.pk])).status_code == 404
    assert "B rule" not in client.get(reverse("monitoring:rules")).content.decode()
    outsider = browser(world.fresh(world.outsider))
    assert outsider.get(reverse("monitoring:rules")).status_code == 403
    assert outsider.get(reverse("monitoring:agent-tokens")).status_code == 403
    assert ThresholdRule.objects.filter(pk=theirs.pk).exists()


def test_agent_token_page_shows_the_token_once_and_revokes(world: World) -> None:
    grant_metrics_roles()
    client = browser(world.fresh(world.customer_a_admin))
    url = reverse("monitoring:agent-tokens")
    bad = client.post(url, {"name": "", "customer": world.customer_a.pk})
    assert bad.status_code == 400
    assert AgentToken.objects.count() == 0
    created = client.post(url, {"name": "linux fleet", "customer": world.customer_a.pk})
    assert created.status_code == 200
    row = AgentToken.objects.get()
    html = created.content.decode()
    start = html.index('value="opsa_') + len('value="')
    token = html[start : html.index('"', start)]
    assert tokens.authenticate_agent(token) == row
    assert f"opsassure agent --server http://testserver --token {token}" in html
    again = client.get(url).content.decode()
    assert token not in again
    assert "linux fleet" in again
    assert client.post(reverse("monitoring:agent-token-revoke", args=[row.pk])).status_code == 302
    assert tokens.authenticate_agent(token) is None
    # Another customer's token: not for us.
    other = client.post(url, {"name": "x", "customer": world.customer_b.pk})
    assert other.status_code == 400
    assert AgentToken.objects.count() == 1


def test_agents_list_shows_only_visible_hosts(world: World) -> None:
    grant_metrics_roles()
    for customer, host in ((world.customer_a, "a-host"), (world.customer_b, "b-host")):
        row, _t = tokens.create_agent_token(customer=customer, name=host)
        Agent.objects.create(customer=customer, token=row, hostname=host, version="1.0")
    page = browser(world.fresh(world.customer_a_user)).get(reverse("monitoring:agents"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "a-host" in html
    assert "b-host" not in html
    assert world.customer_b.name not in html
