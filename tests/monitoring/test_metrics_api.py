"""The metrics API: agent tokens (shown once, revoke → 401), agents, series charts, rules."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from opsassure.monitoring import tokens
from opsassure.monitoring.metrics import SampleIn, store_samples
from opsassure.monitoring.models import Agent, AgentToken, Sample, ThresholdRule
from tests.conftest import World, api_as
from tests.monitoring.metrics_fixtures import grant_metrics_roles

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/monitoring/agent-tokens/"
RULES = "/api/v1/monitoring/threshold-rules/"
SERIES = "/api/v1/monitoring/metric-series/"


def test_token_is_shown_once_and_a_revoked_token_gets_401(world: World) -> None:
    grant_metrics_roles()
    client = api_as(world.fresh(world.customer_a_admin))
    created = client.post(TOKENS, {"name": "fleet"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["customer"] == world.customer_a.pk
    token = body["token"]
    assert token.startswith(f"opsa_{body['key_id']}_")
    assert tokens.authenticate_agent(token) == AgentToken.objects.get(pk=body["id"])
    listed = client.get(TOKENS).json()["results"]
    assert [row["token"] for row in listed] == [None]
    assert client.get(f"{TOKENS}{body['id']}/").json()["token"] is None
    # A customer admin cannot enrol hosts for another customer.
    other = client.post(TOKENS, {"name": "x", "customer": world.customer_b.pk}, format="json")
    assert other.status_code == 400
    assert AgentToken.objects.count() == 1

    push = {"hostname": "h1", "points": []}
    ok = Client().post(
        "/api/v1/monitoring/agent/push/",
        data=json.dumps(push),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert ok.status_code == 200
    revoked = client.post(f"{TOKENS}{body['id']}/revoke/")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    refused = Client().post(
        "/api/v1/monitoring/agent/push/",
        data=json.dumps({"hostname": "h2", "points": []}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert refused.status_code == 401
    assert list(Agent.objects.values_list("hostname", flat=True)) == ["h1"]


def test_customer_user_reads_but_cannot_create_tokens_or_rules(world: World) -> None:
    grant_metrics_roles()
    client = api_as(world.fresh(world.customer_a_user))
    assert client.post(TOKENS, {"name": "x"}, format="json").status_code == 403
    rule = {"name": "r", "metric": "cpu_percent", "operator": ">", "threshold": 90}
    assert client.post(RULES, rule, format="json").status_code == 403
    assert client.get(RULES).status_code == 200
    assert AgentToken.objects.count() == 0
    assert ThresholdRule.objects.count() == 0


def test_rules_crud_with_reasons_for_bad_definitions(world: World) -> None:
    grant_metrics_roles()
    client = api_as(world.fresh(world.engineer_a))
    good = {
        "customer": world.customer_a.pk,
        "name": "Disk full",
        "metric": "disk_used_percent",
        "dimension": "/",
        "operator": ">=",
        "threshold": 90,
        "recovery_threshold": 85,
        "for_seconds": 300,
        "severity": "critical",
        "labels": {"team": "storage"},
    }
    created = client.post(RULES, good, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["firing"], body["pending"], body["operator"]) == (0, 0, ">=")
    bad_cases = {
        "operator": {"operator": "=>"},
        "metric": {"metric": "disk used"},
        "for_seconds": {"for_seconds": -1},
        "recovery_threshold": {"recovery_threshold": 95},
        "labels": {"labels": {"severity": "low"}},
    }
    for field, change in bad_cases.items():
        answer = client.post(RULES, {**good, **change}, format="json")
        assert answer.status_code == 400, (field, answer.content)
        error = answer.json()["error"]
        assert (error["code"], list(error["fields"])) == ("validation_error", [field])
    # An engineer (no "all customers") may not create a rule for every customer.
    provider_wide = client.post(RULES, {**good, "customer": None}, format="json")
    assert provider_wide.status_code == 400
    assert ThresholdRule.objects.count() == 1

    url = f"{RULES}{body['id']}/"
    patched = client.patch(url, {"threshold": 80, "recovery_threshold": 95}, format="json")
    assert patched.status_code == 400
    assert ThresholdRule.objects.get().threshold == 90
    patched = client.patch(url, {"threshold": 95}, format="json")
    assert patched.status_code == 200
    assert patched.json()["threshold"] == 95
    assert client.delete(url).status_code == 204
    assert ThresholdRule.objects.count() == 0

    manager = api_as(world.fresh(world.manager))
    everywhere = manager.post(RULES, {**good, "customer": None}, format="json")
    assert everywhere.status_code == 201, everywhere.content


def test_series_list_and_chart_windows(world: World) -> None:
    grant_metrics_roles()
    row, _token = tokens.create_agent_token(customer=world.customer_a, name="t")
    agent = Agent.objects.create(customer=world.customer_a, token=row, hostname="h")
    now = timezone.now().replace(microsecond=0)
    samples = [
        SampleIn(name="load1", value=float(i), ts=now - dt.timedelta(minutes=i)) for i in range(5)
    ]
    (series_id,), _n = store_samples(
        customer_id=world.customer_a.pk, ci_id=None, samples=samples, agent_id=agent.pk
    )
    client = api_as(world.fresh(world.customer_a_user))
    listed = client.get(SERIES, {"name": "load1"}).json()["results"]
    assert [(s["id"], s["last_value"]) for s in listed] == [(series_id, 0.0)]
    chart = client.get(f"{SERIES}{series_id}/samples/", {"window": "24h"})
    assert chart.status_code == 200
    assert [p["value"] for p in chart.json()["points"]] == [4.0, 3.0, 2.0, 1.0, 0.0]
    assert chart.json()["resolution"] == "raw"
    assert client.get(f"{SERIES}{series_id}/samples/", {"window": "1y"}).status_code == 400
    outsider = api_as(world.fresh(world.customer_b_user))
    assert outsider.get(f"{SERIES}{series_id}/samples/").status_code == 404
    assert Sample.objects.count() == 5
