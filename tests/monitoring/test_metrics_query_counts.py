"""Lists of the metrics part: the number of queries does not grow with the rows (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opsassure.core.models import Customer, User
from opsassure.monitoring import tokens
from opsassure.monitoring.models import Agent, MetricSeries, RuleState, ThresholdRule
from tests.conftest import World, api_as
from tests.factories import _ci
from tests.monitoring.metrics_fixtures import grant_metrics_roles

pytestmark = pytest.mark.django_db


def _add(customer: Customer, count: int, start: int) -> None:
    row, _t = tokens.create_agent_token(customer=customer, name=f"t{start}")
    for i in range(start, start + count):
        ci = _ci(customer, name=f"host{i}")
        agent = Agent.objects.create(customer=customer, token=row, hostname=f"host{i}", ci=ci)
        series = MetricSeries.objects.create(
            customer=customer,
            ci=ci,
            agent=agent,
            key=f"agent:{agent.pk}:cpu_percent:",
            name="cpu_percent",
        )
        rule = ThresholdRule.objects.create(
            customer=customer,
            name=f"rule{i}",
            metric="cpu_percent",
            operator=">",
            threshold=90,
            ci=ci,
        )
        RuleState.objects.create(rule=rule, series=series, state="firing")


def _queries(user: User, url: str, *, api: bool) -> int:
    client: Client = api_as(user) if api else Client()
    if not api:
        client.force_login(user)
    client.get(url)  # warm caches (permissions, session)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("url", "api"),
    [
        ("/api/v1/monitoring/threshold-rules/", True),
        ("/api/v1/monitoring/agents/", True),
        ("/api/v1/monitoring/agent-tokens/", True),
        ("/api/v1/monitoring/metric-series/", True),
        (reverse("monitoring:rules"), False),
        (reverse("monitoring:agents"), False),
        (reverse("monitoring:agent-tokens"), False),
    ],
)
def test_list_queries_do_not_grow_with_rows(world: World, url: str, api: bool) -> None:
    grant_metrics_roles()
    user = world.fresh(world.engineer_a)
    _add(world.customer_a, 2, 0)
    few = _queries(user, url, api=api)
    _add(world.customer_a, 20, 100)
    assert _queries(world.fresh(world.engineer_a), url, api=api) == few
