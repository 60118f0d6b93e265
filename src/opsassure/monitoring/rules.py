"""Threshold rules over metric series: validation, scope, evaluation, alerts.

A rule says "``metric`` ``operator`` ``threshold`` for ``for_seconds``" and applies to every
series of that metric in its scope: the rule's customer (none = every customer), narrowed by
a CI, a CI type or a tag of the series' CI, and by a dimension (mount point, interface).

Per (rule, series) a ``RuleState`` walks ``ok → pending → firing → ok``, sample by sample in
time order (a backlog the agent sends after an outage is replayed as it happened):

- a breaching sample moves ``ok`` to ``pending`` (``since`` = its time), or straight to
  ``firing`` when ``for_seconds`` is 0;
- ``pending`` fires once a breaching sample is ``for_seconds`` after ``since``; a sample that
  does not breach goes back to ``ok`` (nothing was ever sent);
- ``firing`` clears only when a sample no longer passes ``recovery_threshold`` (hysteresis;
  default: the threshold itself), e.g. ``> 90`` with recovery 80 fires above 90 and resolves
  at 80 or below.

``evaluated_at`` is the time of the last sample applied (data time, not wall time). A series
that goes silent keeps its state: no data is not a recovery, so nothing is resolved falsely.
Firing sends ``alerts.fire`` (fingerprint ``mon-rule-<rule>-<series>``) into the alerting
pipeline, clearing sends ``alerts.resolve`` — in the transaction that changed the state.

Check metrics (``check_response_ms``, ``check_down``) have no samples: ``evaluate_all`` keeps
one series per check for them, fed from the check's last result.
"""

from __future__ import annotations

import datetime as dt
import math
import operator as op
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opsassure.cmdb.models import ConfigurationItem
from opsassure.core.errors import ServiceError
from opsassure.monitoring import alerts
from opsassure.monitoring.models import (
    CheckState,
    MetricSeries,
    Monitor,
    Operator,
    RuleState,
    RuleStateValue,
    Sample,
    Severity,
    ThresholdRule,
)

METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,63}$")
RESERVED_LABELS = frozenset({"alertname", "severity", "source", "opsassure_ci_id"})
MAX_FOR_SECONDS = 7 * 86_400
MAX_LABELS = 20
CHECK_METRICS = frozenset({"check_response_ms", "check_down"})
# What the agent and node_exporter checks report (the rule form offers these).
KNOWN_METRICS: dict[str, Any] = {
    "cpu_percent": gettext_lazy("CPU used (%)"),
    "mem_used_percent": gettext_lazy("Memory used (%)"),
    "swap_used_percent": gettext_lazy("Swap used (%)"),
    "disk_used_percent": gettext_lazy("Disk used (%), per mount point"),
    "disk_read_bytes_per_s": gettext_lazy("Disk reads (bytes/s)"),
    "disk_write_bytes_per_s": gettext_lazy("Disk writes (bytes/s)"),
    "net_rx_bytes_per_s": gettext_lazy("Network received (bytes/s), per interface"),
    "net_tx_bytes_per_s": gettext_lazy("Network sent (bytes/s), per interface"),
    "load1": gettext_lazy("Load average, 1 min"),
    "load5": gettext_lazy("Load average, 5 min"),
    "load15": gettext_lazy("Load average, 15 min"),
    "uptime_seconds": gettext_lazy("Uptime (s)"),
    "check_response_ms": gettext_lazy("Check response time (ms)"),
    "check_down": gettext_lazy("Check down (1 = down)"),
}
COMPARE: dict[str, Callable[[float, float], bool]] = {
    Operator.GT: op.gt,
    Operator.GE: op.ge,
    Operator.LT: op.lt,
    Operator.LE: op.le,
    Operator.EQ: op.eq,
    Operator.NE: op.ne,
}
SILENT_AFTER_INTERVALS = 3
CHUNK = 500


class RuleError(ServiceError):
    code = "validation_error"


# --- Validation and writes -------------------------------------------------------------------


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def validate_rule(
    *,
    name: Any,
    metric: Any,
    operator: Any,
    threshold: Any,
    for_seconds: Any = 300,
    recovery_threshold: Any = None,
    severity: Any = Severity.WARNING,
    labels: Any = None,
    dimension: Any = "",
    customer_id: int | None = None,
    ci: ConfigurationItem | None = None,
) -> None:
    """Raise ``RuleError`` (400) listing every problem of a rule definition."""
    problems: dict[str, list[str]] = {}
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        problems["name"] = [_("Required, at most 200 characters.")]
    if not isinstance(metric, str) or not METRIC_NAME.match(metric):
        problems["metric"] = [
            _("A metric name is lower-case letters, digits and '_', starting with a letter.")
        ]
    if operator not in COMPARE:
        problems["operator"] = [
            _("Unknown operator %(op)s; use one of %(ops)s.")
            % {"op": str(operator)[:10], "ops": " ".join(Operator.values)}
        ]
    limit = _finite(threshold)
    if limit is None:
        problems["threshold"] = [_("Must be a finite number.")]
    if (
        isinstance(for_seconds, bool)
        or not isinstance(for_seconds, int)
        or not 0 <= for_seconds <= MAX_FOR_SECONDS
    ):
        problems["for_seconds"] = [_("Whole seconds from 0 to %(max)d.") % {"max": MAX_FOR_SECONDS}]
    if recovery_threshold is not None:
        recovery = _finite(recovery_threshold)
        if recovery is None:
            problems["recovery_threshold"] = [_("Must be a finite number.")]
        elif operator in (Operator.EQ, Operator.NE):
            problems["recovery_threshold"] = [_("Only for the operators >, ≥, < and ≤.")]
        elif limit is not None and operator in (Operator.GT, Operator.GE) and recovery > limit:
            problems["recovery_threshold"] = [
                _("Must not be above the threshold (the rule fires above it).")
            ]
        elif limit is not None and operator in (Operator.LT, Operator.LE) and recovery < limit:
            problems["recovery_threshold"] = [
                _("Must not be below the threshold (the rule fires below it).")
            ]
    if severity not in Severity.values:
        problems["severity"] = [_("Unknown severity.")]
    if not isinstance(dimension, str) or len(dimension) > 200:
        problems["dimension"] = [_("Text of at most %(n)d characters.") % {"n": 200}]
    labels = {} if labels is None else labels
    if not isinstance(labels, dict) or len(labels) > MAX_LABELS:
        problems["labels"] = [_("An object of at most %(n)d labels.") % {"n": MAX_LABELS}]
    else:
        for key, value in labels.items():
            if not isinstance(key, str) or not LABEL_NAME.match(key) or key in RESERVED_LABELS:
                problems["labels"] = [
                    _("%(key)s: not a label name, or reserved.") % {"key": str(key)[:64]}
                ]
                break
            if not isinstance(value, str) or len(value) > 200:
                problems["labels"] = [_("%(key)s: text of at most 200 characters.") % {"key": key}]
                break
    if ci is not None and customer_id is not None and ci.customer_id != customer_id:
        problems["ci"] = [_("The CI belongs to another customer.")]
    if problems:
        first = next(iter(problems.items()))
        raise RuleError(f"{first[0]}: {first[1][0]}", fields=problems)


RULE_FIELDS = (
    "customer",
    "name",
    "enabled",
    "metric",
    "dimension",
    "operator",
    "threshold",
    "for_seconds",
    "recovery_threshold",
    "severity",
    "labels",
    "ci",
    "ci_type",
    "tag",
)


def _validate_instance(rule: ThresholdRule) -> None:
    validate_rule(
        name=rule.name,
        metric=rule.metric,
        operator=rule.operator,
        threshold=rule.threshold,
        for_seconds=rule.for_seconds,
        recovery_threshold=rule.recovery_threshold,
        severity=rule.severity,
        labels=rule.labels,
        dimension=rule.dimension,
        customer_id=rule.customer_id,
        ci=rule.ci,
    )


def create_rule(**values: Any) -> ThresholdRule:
    """A new rule (``values``: the model's fields); ``RuleError`` writes nothing."""
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise RuleError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    rule = ThresholdRule(**values)
    _validate_instance(rule)
    with transaction.atomic():
        rule.save()
    return rule


def update_rule(rule: ThresholdRule, **values: Any) -> ThresholdRule:
    """Change a rule. States of series it no longer covers (or all, when disabled) are
    dropped, resolving their alerts; the others carry on under the new definition."""
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise RuleError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    for key, value in values.items():
        setattr(rule, key, value)
    _validate_instance(rule)
    with transaction.atomic():
        rule.save()
        states = list(
            RuleState.objects.select_for_update(of=("self",))
            .filter(rule=rule)
            .select_related("series", "series__agent")
            .order_by("pk")
        )
        covered = {series.pk for _rule, series in applicable([rule], [s.series for s in states])}
        gone = [s for s in states if not rule.enabled or s.series_id not in covered]
        _drop_states(rule, gone)
    return rule


def delete_rule(rule: ThresholdRule) -> None:
    """Delete a rule, resolving whatever it has firing."""
    with transaction.atomic():
        states = list(
            RuleState.objects.select_for_update(of=("self",))
            .filter(rule=rule)
            .select_related("series", "series__agent")
            .order_by("pk")
        )
        _drop_states(rule, states)
        rule.delete()


def _drop_states(rule: ThresholdRule, states: list[RuleState]) -> None:
    now = timezone.now()
    for state in states:
        if state.state == RuleStateValue.FIRING:
            _resolve(rule, state.series, state.last_value, now)
    RuleState.objects.filter(pk__in=[s.pk for s in states]).delete()


# --- Scope ----------------------------------------------------------------------------------


def applicable(
    rules: Iterable[ThresholdRule], series: Iterable[MetricSeries]
) -> list[tuple[ThresholdRule, MetricSeries]]:
    """The (rule, series) pairs where the rule covers the series. Two queries at most (CI
    types and tags of the series' CIs), whatever the number of rules and series."""
    rules, series = list(rules), list(series)
    ci_ids = {s.ci_id for s in series if s.ci_id is not None}
    ci_types: dict[int, int] = {}
    ci_tags: dict[int, set[int]] = defaultdict(set)
    if ci_ids and any(r.ci_type_id for r in rules):
        ci_types = dict(
            ConfigurationItem.objects.filter(pk__in=ci_ids).values_list("pk", "ci_type_id")
        )
    if ci_ids and any(r.tag_id for r in rules):
        through = ConfigurationItem.tags.through
        for ci_id, tag_id in through.objects.filter(configurationitem_id__in=ci_ids).values_list(
            "configurationitem_id", "tag_id"
        ):
            ci_tags[ci_id].add(tag_id)
    by_metric: dict[str, list[ThresholdRule]] = defaultdict(list)
    for rule in rules:
        by_metric[rule.metric].append(rule)
    pairs: list[tuple[ThresholdRule, MetricSeries]] = []
    for one in series:
        for rule in by_metric.get(one.name, ()):
            if rule.dimension and rule.dimension != one.dimension:
                continue
            if rule.customer_id is not None and rule.customer_id != one.customer_id:
                continue
            if rule.ci_id is not None and rule.ci_id != one.ci_id:
                continue
            if rule.ci_type_id is not None and (
                one.ci_id is None or ci_types.get(one.ci_id) != rule.ci_type_id
            ):
                continue
            if rule.tag_id is not None and (
                one.ci_id is None or rule.tag_id not in ci_tags.get(one.ci_id, set())
            ):
                continue
            pairs.append((rule, one))
    return pairs


# --- Evaluation -----------------------------------------------------------------------------


def fingerprint(rule_id: int, series_id: int) -> str:
    return f"mon-rule-{rule_id}-{series_id}"


def _labels(rule: ThresholdRule, series: MetricSeries) -> dict[str, str]:
    labels = {**{str(k): str(v) for k, v in (rule.labels or {}).items()}}
    labels.update(alertname=rule.name, metric=series.name, rule_id=str(rule.pk))
    if series.dimension:
        labels["dimension"] = series.dimension
    if series.ci_id is not None:
        labels["opsassure_ci_id"] = str(series.ci_id)
    if series.agent_id is not None and series.agent is not None:
        labels["host"] = series.agent.hostname
    if series.monitor_id is not None:
        labels["check_id"] = str(series.monitor_id)
    return labels


def _describe(rule: ThresholdRule, series: MetricSeries, value: float | None) -> str:
    name = f"{series.name}{{{series.dimension}}}" if series.dimension else series.name
    shown = "—" if value is None else f"{value:g}"
    return f"{name} = {shown} ({rule.operator} {rule.threshold:g}, {rule.for_seconds} s)"


def _fire(rule: ThresholdRule, series: MetricSeries, value: float, at: dt.datetime) -> None:
    alerts.fire(
        series.customer_id,
        fingerprint=fingerprint(rule.pk, series.pk),
        labels=_labels(rule, series),
        annotations={
            "summary": _describe(rule, series, value),
            "value": f"{value:g}",
            "threshold": f"{rule.threshold:g}",
        },
        severity=rule.severity,
        starts_at=at,
    )


def _resolve(
    rule: ThresholdRule, series: MetricSeries, value: float | None, at: dt.datetime
) -> None:
    alerts.resolve(
        series.customer_id,
        fingerprint=fingerprint(rule.pk, series.pk),
        labels=_labels(rule, series),
        severity=rule.severity,
        ends_at=at,
    )


def step(
    rule: ThresholdRule, series: MetricSeries, state: RuleState, value: float, at: dt.datetime
) -> bool:
    """Apply one sample to the state; True if the state changed (alerts sent here)."""
    before = state.state
    breach = COMPARE[rule.operator](value, rule.threshold)
    if state.state == RuleStateValue.OK and breach:
        state.state, state.since = RuleStateValue.PENDING, at
    if state.state == RuleStateValue.PENDING:
        if not breach:
            state.state, state.since = RuleStateValue.OK, None
        elif state.since is not None and (at - state.since).total_seconds() >= rule.for_seconds:
            state.state, state.since = RuleStateValue.FIRING, at
            _fire(rule, series, value, at)
    elif state.state == RuleStateValue.FIRING and before == RuleStateValue.FIRING:
        recovery = rule.recovery_threshold
        holds = COMPARE[rule.operator](value, rule.threshold if recovery is None else recovery)
        if not holds:
            state.state, state.since = RuleStateValue.OK, None
            _resolve(rule, series, value, at)
    state.last_value = value
    state.evaluated_at = at
    return state.state != before


def _interval(series: MetricSeries) -> int:
    if series.agent is not None:
        return series.agent.interval_seconds
    if series.monitor is not None:
        return series.monitor.interval_seconds
    return 60


def _window(rule: ThresholdRule, series: MetricSeries) -> dt.timedelta:
    """How far back a state without history looks: the "for" plus a few intervals."""
    return dt.timedelta(seconds=rule.for_seconds + SILENT_AFTER_INTERVALS * _interval(series))


def _enabled_rules(metrics: Iterable[str]) -> list[ThresholdRule]:
    return list(ThresholdRule.objects.filter(enabled=True, metric__in=set(metrics)).order_by("pk"))


def evaluate_series(series_ids: list[int], *, now: dt.datetime | None = None) -> int:
    """Apply the new samples of these series to every rule that covers them.

    Returns the number of state changes. Safe to run twice: a sample already applied
    (``ts <= evaluated_at``) is not applied again.
    """
    now = now or timezone.now()
    changes = 0
    ids = sorted(set(series_ids))
    for start in range(0, len(ids), CHUNK):
        changes += _evaluate_chunk(ids[start : start + CHUNK], now)
    return changes


def _evaluate_chunk(ids: list[int], now: dt.datetime) -> int:
    series = list(
        MetricSeries.objects.filter(pk__in=ids)
        .exclude(name__in=CHECK_METRICS)
        .select_related("agent", "monitor")
    )
    pairs = applicable(_enabled_rules({s.name for s in series}), series)
    if not pairs:
        return 0
    changes = 0
    with transaction.atomic():
        states = _states(pairs)
        starts: dict[tuple[int, int], dt.datetime] = {}
        for rule, one in pairs:
            floor = now - _window(rule, one)
            known = states.get((rule.pk, one.pk))
            after = known.evaluated_at if known and known.evaluated_at else None
            starts[(rule.pk, one.pk)] = max(after, floor) if after else floor
        earliest = min(starts.values())
        samples: dict[int, list[tuple[dt.datetime, float]]] = defaultdict(list)
        rows = (
            Sample.objects.filter(series_id__in={s.pk for _r, s in pairs}, ts__gte=earliest)
            .order_by("series_id", "ts")
            .values_list("series_id", "ts", "value")
        )
        for series_id, ts, value in rows:
            samples[series_id].append((ts, value))
        dirty: list[RuleState] = []
        for rule, one in pairs:
            key = (rule.pk, one.pk)
            state = states.get(key) or RuleState(rule=rule, series=one)
            applied = False
            for ts, value in samples.get(one.pk, ()):
                evaluated = state.evaluated_at
                if ts < starts[key] or (evaluated is not None and ts <= evaluated):
                    continue
                changes += step(rule, one, state, value, ts)
                applied = True
            if applied:
                dirty.append(state)
        _save_states(dirty, now)
    return changes


def _states(pairs: list[tuple[ThresholdRule, MetricSeries]]) -> dict[tuple[int, int], RuleState]:
    """The existing states of these pairs, locked (in pk order: no deadlock between
    concurrent evaluations)."""
    rule_ids = {rule.pk for rule, _s in pairs}
    series_ids = {one.pk for _r, one in pairs}
    found = (
        RuleState.objects.select_for_update()
        .filter(rule_id__in=rule_ids, series_id__in=series_ids)
        .order_by("pk")
    )
    return {(state.rule_id, state.series_id): state for state in found}


def _save_states(states: list[RuleState], now: dt.datetime) -> None:
    new = [s for s in states if s.pk is None]
    old = [s for s in states if s.pk is not None]
    if new:
        # ignore_conflicts: a concurrent evaluation inserted the same pair; its row wins and
        # the next run continues from it.
        RuleState.objects.bulk_create(new, ignore_conflicts=True)
    if old:
        RuleState.objects.bulk_update(old, ["state", "since", "last_value", "evaluated_at"])


# --- The periodic pass ----------------------------------------------------------------------


def _check_series(rules: list[ThresholdRule]) -> list[int]:
    """One series per check covered by a check-metric rule, its last value taken from the
    check's last result (no samples are stored for these). Returns the series ids."""
    metrics = {rule.metric for rule in rules}
    if not metrics:
        return []
    scope = Q()
    customers = {rule.customer_id for rule in rules}
    monitors = Monitor.objects.filter(enabled=True, last_result_at__isnull=False)
    if None not in customers:
        scope &= Q(customer_id__in=customers)
    touched: list[int] = []
    for monitor in monitors.filter(scope).order_by("pk").iterator(chunk_size=CHUNK):
        for metric in metrics:
            if metric == "check_response_ms":
                if monitor.last_response_ms is None:
                    continue
                value = float(monitor.last_response_ms)
            else:
                value = 1.0 if monitor.state == CheckState.DOWN else 0.0
            series, _created = MetricSeries.objects.get_or_create(
                key=f"monitor:{monitor.pk}:{metric}:",
                defaults={
                    "customer_id": monitor.customer_id,
                    "ci_id": monitor.ci_id,
                    "monitor": monitor,
                    "name": metric,
                    "unit": "ms" if metric == "check_response_ms" else "",
                },
            )
            if series.last_at != monitor.last_result_at or series.ci_id != monitor.ci_id:
                MetricSeries.objects.filter(pk=series.pk).update(
                    last_value=value, last_at=monitor.last_result_at, ci_id=monitor.ci_id
                )
            touched.append(series.pk)
    return touched


def _evaluate_checks(series_ids: list[int], now: dt.datetime) -> int:
    series = list(MetricSeries.objects.filter(pk__in=series_ids).select_related("agent", "monitor"))
    pairs = applicable(_enabled_rules(CHECK_METRICS), series)
    changes = 0
    with transaction.atomic():
        states = _states(pairs) if pairs else {}
        dirty: list[RuleState] = []
        for rule, one in pairs:
            state = states.get((rule.pk, one.pk)) or RuleState(rule=rule, series=one)
            at, value = one.last_at, one.last_value
            if at is None or value is None:
                continue
            if state.evaluated_at is not None and at <= state.evaluated_at:
                continue
            changes += step(rule, one, state, value, at)
            dirty.append(state)
        _save_states(dirty, now)
    return changes


def _pending_due(now: dt.datetime) -> int:
    """Pending states whose "for" ran out while the series kept its breaching value but sent
    no newer sample yet (slow series); silent series are left as they are."""
    changes = 0
    with transaction.atomic():
        states = list(
            RuleState.objects.select_for_update(of=("self",))
            .filter(state=RuleStateValue.PENDING, rule__enabled=True)
            .select_related("rule", "series", "series__agent", "series__monitor")
            .order_by("pk")
        )
        dirty: list[RuleState] = []
        for state in states:
            rule, one = state.rule, state.series
            if state.since is None or state.last_value is None or one.last_at is None:
                continue
            silent = now - one.last_at > dt.timedelta(
                seconds=SILENT_AFTER_INTERVALS * _interval(one)
            )
            due = (now - state.since).total_seconds() >= rule.for_seconds
            if silent or not due or not COMPARE[rule.operator](state.last_value, rule.threshold):
                continue
            state.state, state.since = RuleStateValue.FIRING, now
            _fire(rule, one, state.last_value, now)
            dirty.append(state)
            changes += 1
        if dirty:
            RuleState.objects.bulk_update(dirty, ["state", "since"])
    return changes


def evaluate_all(*, now: dt.datetime | None = None) -> int:
    """Every minute: check-metric rules, pending rules whose "for" ran out, and a re-drive of
    the recently active series (a lost ``monitoring_evaluate`` message changes nothing)."""
    now = now or timezone.now()
    rules = list(ThresholdRule.objects.filter(enabled=True).order_by("pk"))
    check_rules = [rule for rule in rules if rule.metric in CHECK_METRICS]
    changes = _evaluate_checks(_check_series(check_rules), now) if check_rules else 0
    metrics = {rule.metric for rule in rules} - CHECK_METRICS
    if metrics:
        recent = (
            MetricSeries.objects.filter(
                name__in=metrics, last_at__gte=now - dt.timedelta(minutes=5)
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        changes += evaluate_series(list(recent), now=now)
    return changes + _pending_due(now)


def state_counts(rule_ids: Iterable[int]) -> Mapping[int, dict[str, int]]:
    """{rule id: {state: count}} for the rules list page (one query)."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        RuleState.objects.filter(rule_id__in=list(rule_ids))
        .values_list("rule_id", "state")
        .order_by()
    )
    for rule_id, state in rows:
        counts[rule_id][state] = counts[rule_id].get(state, 0) + 1
    return counts
