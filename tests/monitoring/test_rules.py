"""Threshold rules: for-duration, hysteresis, scope, silence, check metrics → alerting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.test import TestCase

from opsassure.alerting.models import Alert, AlertGroup
from opsassure.cmdb.models import CIType, Tag
from opsassure.monitoring import rules, tokens
from opsassure.monitoring.metrics import SampleIn, store_samples
from opsassure.monitoring.models import (
    Agent,
    CheckState,
    MetricSeries,
    RuleState,
    ThresholdRule,
)
from tests.conftest import World
from tests.factories import _ci
from tests.monitoring.metrics_fixtures import check, utc

pytestmark = pytest.mark.django_db

T0 = utc(2026, 3, 9, 8)


@contextmanager
def committed() -> Iterator[None]:
    """Run the alert pipeline's on-commit work (eager tasks) like after a real commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield


def _agent(world: World, hostname: str = "web01", interval: int = 30) -> Agent:
    row, _token = tokens.create_agent_token(customer=world.customer_a, name=hostname)
    ci = _ci(world.customer_a, name=hostname)
    return Agent.objects.create(
        customer=world.customer_a, token=row, hostname=hostname, ci=ci, interval_seconds=interval
    )


def _feed(agent: Agent, values: list[tuple[int, float]], name: str = "cpu_percent") -> int:
    """Store samples at T0 + seconds and evaluate them, as a push does."""
    samples = [SampleIn(name=name, value=v, ts=T0 + dt.timedelta(seconds=s)) for s, v in values]
    with committed():
        ids, _inserted = store_samples(
            customer_id=agent.customer_id, ci_id=agent.ci_id, samples=samples, agent_id=agent.pk
        )
        return rules.evaluate_series(ids, now=T0 + dt.timedelta(seconds=values[-1][0]))


def _rule(world: World, **values: object) -> ThresholdRule:
    defaults: dict[str, object] = {
        "customer": world.customer_a,
        "name": "CPU high",
        "metric": "cpu_percent",
        "operator": ">",
        "threshold": 90.0,
        "for_seconds": 60,
        "recovery_threshold": 80.0,
        "severity": "critical",
    }
    return rules.create_rule(**{**defaults, **values})


def _state(rule: ThresholdRule) -> RuleState:
    return RuleState.objects.get(rule=rule)


def test_for_duration_then_firing_then_hysteresis_then_resolved(world: World) -> None:
    agent = _agent(world)
    rule = _rule(world)
    assert _feed(agent, [(0, 95.0)]) == 1
    assert (_state(rule).state, _state(rule).since) == ("pending", T0)
    assert _feed(agent, [(30, 96.0)]) == 0  # 30 s < 60 s: still pending
    assert AlertGroup.objects.count() == 0
    assert _feed(agent, [(60, 97.0)]) == 1
    state = _state(rule)
    assert (state.state, state.since, state.last_value) == (
        "firing",
        T0 + dt.timedelta(seconds=60),
        97.0,
    )
    group = AlertGroup.objects.get()
    assert (group.state, group.severity, group.customer_id, group.ci_id) == (
        "firing",
        "critical",
        world.customer_a.pk,
        agent.ci_id,
    )
    alert = Alert.objects.get()
    series = MetricSeries.objects.get(name="cpu_percent")
    assert alert.fingerprint == f"mon-rule-{rule.pk}-{series.pk}"
    assert alert.labels["alertname"] == "CPU high"
    assert alert.labels["host"] == "web01"
    assert alert.labels["opsassure_ci_id"] == str(agent.ci_id)
    assert alert.annotations["value"] == "97"
    # Below the threshold but above the recovery threshold: still firing (hysteresis).
    assert _feed(agent, [(90, 85.0)]) == 0
    assert _state(rule).state == "firing"
    # The same samples again (a re-driven task): nothing changes, nothing is re-sent.
    assert rules.evaluate_series([series.pk], now=T0 + dt.timedelta(seconds=95)) == 0
    assert Alert.objects.count() == 1
    assert _feed(agent, [(120, 80.0)]) == 1
    assert (_state(rule).state, _state(rule).since) == ("ok", None)
    alert.refresh_from_db()
    group.refresh_from_db()
    assert alert.status == "resolved"
    assert group.state == "resolved"
    assert AlertGroup.objects.count() == 1


def test_a_breach_shorter_than_for_never_alerts(world: World) -> None:
    agent = _agent(world)
    rule = _rule(world)
    _feed(agent, [(0, 99.0), (30, 99.0), (45, 50.0), (90, 99.0)])
    state = _state(rule)
    assert (state.state, state.since, state.evaluated_at) == (
        "pending",
        T0 + dt.timedelta(seconds=90),
        T0 + dt.timedelta(seconds=90),
    )
    assert AlertGroup.objects.count() == 0


def test_a_backlog_is_replayed_in_time_order(world: World) -> None:
    agent = _agent(world)
    rule = _rule(world, for_seconds=0, recovery_threshold=None)
    # One push carrying an outage's worth of points: fires at 10 s, clears at 20 s, fires at 30 s.
    _feed(agent, [(0, 10.0), (10, 95.0), (20, 50.0), (30, 99.0)])
    assert _state(rule).state == "firing"
    alerts = Alert.objects.order_by("cycle")
    assert [(a.cycle, a.status) for a in alerts] == [(1, "resolved"), (2, "firing")]


def test_a_silent_series_keeps_its_state_and_is_not_resolved_falsely(world: World) -> None:
    agent = _agent(world)
    rule = _rule(world, for_seconds=0)
    _feed(agent, [(0, 99.0)])
    assert _state(rule).state == "firing"
    with committed():
        changes = rules.evaluate_all(now=T0 + dt.timedelta(hours=6))
    assert changes == 0
    assert _state(rule).state == "firing"
    assert Alert.objects.get().status == "firing"


def test_a_slow_series_fires_when_its_for_runs_out_between_samples(world: World) -> None:
    agent = _agent(world, interval=600)
    rule = _rule(world, for_seconds=120)
    _feed(agent, [(0, 99.0)])
    with committed():
        assert rules.evaluate_all(now=T0 + dt.timedelta(seconds=100)) == 0
        assert _state(rule).state == "pending"
        assert rules.evaluate_all(now=T0 + dt.timedelta(seconds=130)) == 1
    assert _state(rule).state == "firing"
    assert AlertGroup.objects.get().state == "firing"


def test_scope_customer_ci_type_tag_and_dimension(world: World) -> None:
    mine = _agent(world, "mine")
    assert mine.ci is not None
    tag = Tag.objects.create(name="prod")
    mine.ci.tags.add(tag)
    other_row, _t = tokens.create_agent_token(customer=world.customer_b, name="b")
    theirs = Agent.objects.create(customer=world.customer_b, token=other_row, hostname="theirs")
    samples = [
        SampleIn(name="disk_used_percent", value=1.0, ts=T0, dimension="/"),
        SampleIn(name="disk_used_percent", value=1.0, ts=T0, dimension="/data"),
    ]
    store_samples(customer_id=mine.customer_id, ci_id=mine.ci_id, samples=samples, agent_id=mine.pk)
    store_samples(customer_id=theirs.customer_id, ci_id=None, samples=samples, agent_id=theirs.pk)
    series = list(MetricSeries.objects.order_by("pk"))
    server = CIType.objects.get(code="server")
    base = {"name": "r", "metric": "disk_used_percent", "operator": ">", "threshold": 90.0}
    everyone = ThresholdRule(customer=None, **base)
    only_a = ThresholdRule(customer=world.customer_a, **base)
    root_only = ThresholdRule(customer=None, dimension="/", **base)
    by_type = ThresholdRule(customer=None, ci_type=server, **base)
    by_tag = ThresholdRule(customer=None, tag=tag, **base)
    by_ci = ThresholdRule(customer=None, ci=mine.ci, **base)
    other_metric = ThresholdRule(customer=None, **{**base, "metric": "cpu_percent"})
    for index, rule in enumerate(
        [everyone, only_a, root_only, by_type, by_tag, by_ci, other_metric]
    ):
        rule.pk = index + 1

    def covered(rule: ThresholdRule) -> list[tuple[str, str]]:
        return sorted((s.agent.hostname, s.dimension) for _r, s in rules.applicable([rule], series))

    assert covered(everyone) == [
        ("mine", "/"),
        ("mine", "/data"),
        ("theirs", "/"),
        ("theirs", "/data"),
    ]
    assert covered(only_a) == [("mine", "/"), ("mine", "/data")]
    assert covered(root_only) == [("mine", "/"), ("theirs", "/")]
    assert covered(by_type) == [("mine", "/"), ("mine", "/data")]
    assert covered(by_tag) == [("mine", "/"), ("mine", "/data")]
    assert covered(by_ci) == [("mine", "/"), ("mine", "/data")]
    assert covered(other_metric) == []


def test_check_metrics_fire_and_resolve_from_the_checks_last_result(world: World) -> None:
    monitor = check(world.customer_a, name="portal")
    rule = _rule(
        world,
        name="Portal down",
        metric="check_down",
        operator="==",
        threshold=1.0,
        for_seconds=0,
        recovery_threshold=None,
    )
    monitor.state, monitor.last_result_at = CheckState.DOWN, T0
    monitor.save()
    with committed():
        assert rules.evaluate_all(now=T0 + dt.timedelta(seconds=5)) == 1
    series = MetricSeries.objects.get(monitor=monitor, name="check_down")
    assert (series.last_value, series.last_at) == (1.0, T0)
    assert _state(rule).state == "firing"
    assert Alert.objects.get().labels["check_id"] == str(monitor.pk)
    monitor.state, monitor.last_result_at = CheckState.UP, T0 + dt.timedelta(seconds=60)
    monitor.save()
    with committed():
        assert rules.evaluate_all(now=T0 + dt.timedelta(seconds=65)) == 1
    assert _state(rule).state == "ok"
    assert Alert.objects.get().status == "resolved"


def test_disabling_or_deleting_a_rule_resolves_what_it_fires(world: World) -> None:
    agent = _agent(world)
    rule = _rule(world, for_seconds=0)
    _feed(agent, [(0, 99.0)])
    assert Alert.objects.get().status == "firing"
    with committed():
        rules.update_rule(rule, enabled=False)
    assert Alert.objects.get().status == "resolved"
    assert RuleState.objects.count() == 0
    with committed():
        rules.update_rule(rule, enabled=True)
    _feed(agent, [(30, 99.0)])
    assert Alert.objects.filter(status="firing").count() == 1
    with committed():
        rules.delete_rule(rule)
    assert Alert.objects.filter(status="firing").count() == 0
    assert ThresholdRule.objects.count() == 0


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"operator": "=>"}, "operator"),
        ({"metric": "CPU %"}, "metric"),
        ({"for_seconds": -5}, "for_seconds"),
        ({"threshold": float("nan")}, "threshold"),
        ({"recovery_threshold": 95.0}, "recovery_threshold"),
        ({"operator": "==", "recovery_threshold": 1.0}, "recovery_threshold"),
        ({"severity": "panic"}, "severity"),
        ({"labels": {"alertname": "x"}}, "labels"),
        ({"labels": {"team": 5}}, "labels"),
        ({"name": " "}, "name"),
    ],
)
def test_validate_rule_refuses_with_the_reason(
    world: World, values: dict[str, object], field: str
) -> None:
    with pytest.raises(rules.RuleError) as raised:
        _rule(world, **values)
    assert list(raised.value.fields) == [field]
    assert raised.value.status_code == 400
    assert ThresholdRule.objects.count() == 0
