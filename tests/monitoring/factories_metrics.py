"""Isolation sample-makers for the metrics part (merged into tests/factories.py FACTORIES)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from django.db import models

from opsassure.core.models import Customer
from opsassure.monitoring import tokens
from opsassure.monitoring.models import Agent, AgentToken, MetricSeries, ThresholdRule
from tests.conftest import World

_counter = itertools.count(1)


def _sample(obj: models.Model, marker: str) -> object:
    from tests.factories import Sample

    return Sample(obj, marker)


def _agent_token(world: World, customer: Customer) -> object:
    name = f"agent-token-{customer.code}-{next(_counter)}"
    row, _token = tokens.create_agent_token(customer=customer, name=name)
    return _sample(row, name)


def _agent_row(customer: Customer) -> Agent:
    row, _token = tokens.create_agent_token(customer=customer, name=f"t-{next(_counter)}")
    hostname = f"host-{customer.code.lower()}-{next(_counter)}"
    return Agent.objects.create(customer=customer, token=row, hostname=hostname)


def _agent(world: World, customer: Customer) -> object:
    agent = _agent_row(customer)
    return _sample(agent, agent.hostname)


def _series(world: World, customer: Customer) -> object:
    agent = _agent_row(customer)
    dimension = f"/mnt/disk-{customer.code}-{next(_counter)}"
    series = MetricSeries.objects.create(
        customer=customer,
        agent=agent,
        key=f"agent:{agent.pk}:disk_used_percent:{dimension}",
        name="disk_used_percent",
        dimension=dimension,
    )
    return _sample(series, dimension)


def _rule(world: World, customer: Customer) -> object:
    name = f"rule-{customer.code}-{next(_counter)}"
    rule = ThresholdRule.objects.create(
        customer=customer, name=name, metric="cpu_percent", operator=">", threshold=90
    )
    return _sample(rule, name)


METRICS_FACTORIES: dict[type[models.Model], Callable[[World, Customer], object]] = {
    AgentToken: _agent_token,
    Agent: _agent,
    MetricSeries: _series,
    ThresholdRule: _rule,
}
