"""Monitoring demo data: checks on the app itself and on demo targets it serves, history so
the charts are not empty, host metrics for a hospital server, a routing rule and threshold
rules.

Called by ``core.demo.load_demo`` after the CMDB and alerting demos. The checks have no probe
location, so the local probe that ``opsassure run`` starts runs them: the app's own
``/healthz`` and port, ``/monitoring/demo-target/flappy/`` (up three minutes, down three: it
goes down within minutes of the first start, raises CheckDown, and the routing rule below
opens an incident for it) and ``/monitoring/demo-target/slow/`` (degraded: 1.2 s over a 1 s
threshold). The history (24 h of raw runs, 30 days of hourly and daily rollups, 24 h of host
metric samples and 30 days of their hourly rollups) is synthetic but deterministic, and shaped
like what the checks really do. Idempotent: checks are found by name, history is added once.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from opsassure.alerting.models import RoutingRule
from opsassure.cmdb.models import ConfigurationItem
from opsassure.core.models import Customer
from opsassure.monitoring import tokens
from opsassure.monitoring.metrics import SampleIn, store_samples
from opsassure.monitoring.models import (
    Agent,
    AgentToken,
    CheckResult,
    CheckRollup,
    CheckState,
    Monitor,
    MonitorProbeState,
    Operator,
    Period,
    Probe,
    ResultStatus,
    SampleRollup,
    Severity,
    ThresholdRule,
)

CUSTOMER = "JCH"
RAW_HOURS = 24
ROLLUP_DAYS = 30
STEP = dt.timedelta(minutes=1)  # one synthetic run a minute in the history

FLAP_SECONDS = 180


def flappy_up(now: float | None = None) -> bool:
    """The flappy demo target: up in even three-minute slots of the epoch, down in odd ones
    (the demo target view answers by it; the demo history is written by it)."""
    return int((time.time() if now is None else now) // FLAP_SECONDS) % 2 == 0


@dataclass(frozen=True)
class DemoCheck:
    name: str
    kind: str
    path: str  # appended to the app's base URL ("" for host:port targets)
    settings: dict[str, Any]
    interval: int
    severity: str
    ci_name: str = ""
    labels: dict[str, str] | None = None
    base_ms: float = 10.0
    pattern: str = "steady"  # steady | flappy | slow | blip


CHECKS = [
    DemoCheck(
        "OpsAssure 自身 /healthz · app health",
        "http",
        "/healthz",
        {"keyword": "ok"},
        30,
        Severity.CRITICAL,
        base_ms=9.0,
        pattern="blip",
    ),
    DemoCheck("OpsAssure 端口 · app TCP port", "tcp", "", {}, 30, Severity.CRITICAL, base_ms=0.4),
    DemoCheck(
        "互联网医院门户 (演示抖动) · online portal, flapping demo",
        "http",
        "/monitoring/demo-target/flappy/",
        {"json_path": "$.status", "json_expected": "ok"},
        20,
        Severity.CRITICAL,
        ci_name="互联网医院 预约挂号 Online appointment",
        labels={"demo": "flappy", "system": "online"},
        base_ms=18.0,
        pattern="flappy",
    ),
    DemoCheck(
        "HIS 接口 (演示慢) · HIS API, slow demo",
        "http",
        "/monitoring/demo-target/slow/",
        {"max_response_ms": 1000},
        30,
        Severity.WARNING,
        ci_name="HIS WebLogic 节点1 node 1",
        labels={"demo": "slow", "system": "HIS"},
        base_ms=1230.0,
        pattern="slow",
    ),
    DemoCheck(
        "本机回环 ping · loopback", "icmp", "", {"count": 1}, 60, Severity.WARNING, base_ms=0.06
    ),
]
METRIC_HOST = "his-db-srv01"


def _base_url() -> tuple[str, str]:
    base = str(getattr(settings, "BASE_URL", "http://127.0.0.1:8000")).rstrip("/")
    host_port = base.split("://", 1)[-1].split("/", 1)[0]
    return base, host_port


def _target(check: DemoCheck) -> str:
    base, host_port = _base_url()
    if check.kind == "http":
        return base + check.path
    if check.kind == "tcp":
        return host_port if ":" in host_port else f"{host_port}:80"
    return host_port.rsplit(":", 1)[0]


def _run(check: DemoCheck, at: dt.datetime, rng: random.Random) -> tuple[int, float | None, str]:
    """A synthetic run of ``check`` at ``at``: (status, response ms, message)."""
    local_hour = (at.hour + 8) % 24  # busier in Beijing business hours
    load = 1.0 + (0.35 if 8 <= local_hour < 18 else 0.0) + 0.1 * math.sin(at.minute / 9.5)
    ms = check.base_ms * load * rng.uniform(0.85, 1.25)
    if check.pattern == "flappy":
        if not flappy_up(at.timestamp()):
            return ResultStatus.DOWN, None, "HTTP 503"
        return ResultStatus.UP, ms, ""
    if check.pattern == "slow":
        return ResultStatus.DEGRADED, ms, "response time above 1000 ms"
    if check.pattern == "blip":
        # A short outage three days ago (a deploy), and a slow patch the day before.
        age = timezone.now() - at
        if dt.timedelta(days=3) <= age < dt.timedelta(days=3, minutes=12):
            return ResultStatus.DOWN, None, "connection refused"
        if dt.timedelta(days=2) <= age < dt.timedelta(days=2, hours=1):
            ms *= 6
    return ResultStatus.UP, ms, ""


@dataclass
class _Bucket:
    total: int = 0
    up: int = 0
    degraded: int = 0
    down: int = 0
    response_count: int = 0
    response_sum_ms: float = 0.0
    response_max_ms: float | None = None

    def add(self, status: int, ms: float | None) -> None:
        self.total += 1
        if status == ResultStatus.UP:
            self.up += 1
        elif status == ResultStatus.DEGRADED:
            self.degraded += 1
        else:
            self.down += 1
        if ms is not None:
            self.response_count += 1
            self.response_sum_ms += ms
            self.response_max_ms = (
                ms if self.response_max_ms is None else max(self.response_max_ms, ms)
            )

    def merge(self, other: _Bucket) -> None:
        self.total += other.total
        self.up += other.up
        self.degraded += other.degraded
        self.down += other.down
        self.response_count += other.response_count
        self.response_sum_ms += other.response_sum_ms
        if other.response_max_ms is not None:
            self.response_max_ms = (
                other.response_max_ms
                if self.response_max_ms is None
                else max(self.response_max_ms, other.response_max_ms)
            )

    def rollup(self, monitor: Monitor, period: str, bucket: dt.datetime) -> CheckRollup:
        return CheckRollup(
            monitor=monitor,
            period=period,
            bucket=bucket,
            total=self.total,
            up=self.up,
            degraded=self.degraded,
            down=self.down,
            hours_total=self.total,
            hours_up=self.up + self.degraded,
            response_count=self.response_count,
            response_sum_ms=round(self.response_sum_ms, 3),
            response_max_ms=round(self.response_max_ms, 3) if self.response_max_ms else None,
        )


def _history(monitor: Monitor, check: DemoCheck, probe: Probe, now: dt.datetime) -> None:
    """24 h of raw runs and 30 days of hourly and daily rollups (once per check)."""
    if CheckRollup.objects.filter(monitor=monitor).exists():
        return
    rng = random.Random(f"opsassure-demo-{check.name}")  # noqa: S311 (demo data)
    end = now.replace(second=0, microsecond=0)
    start = (end - dt.timedelta(days=ROLLUP_DAYS)).replace(minute=0)
    raw_from = end - dt.timedelta(hours=RAW_HOURS)
    hours: dict[dt.datetime, _Bucket] = defaultdict(_Bucket)
    results: list[CheckResult] = []
    last: tuple[dt.datetime, int, float | None, str] | None = None
    changed_at = start  # when the status last changed: the state's "since"
    at = start
    while at < end:
        status, ms, message = _run(check, at, rng)
        if last is not None and last[1] != status:
            changed_at = at
        hours[at.replace(minute=0)].add(status, ms)
        if at >= raw_from:
            results.append(
                CheckResult(
                    monitor=monitor,
                    probe=probe,
                    started_at=at,
                    status=status,
                    response_ms=round(ms, 3) if ms is not None else None,
                    message=message,
                )
            )
        last = (at, status, ms, message)
        at += STEP
    days: dict[dt.datetime, _Bucket] = defaultdict(_Bucket)
    for hour, bucket in hours.items():
        days[hour.replace(hour=0)].merge(bucket)
    CheckResult.objects.bulk_create(results, batch_size=2000, ignore_conflicts=True)
    CheckRollup.objects.bulk_create(
        [bucket.rollup(monitor, Period.HOUR, hour) for hour, bucket in sorted(hours.items())]
        + [bucket.rollup(monitor, Period.DAY, day) for day, bucket in sorted(days.items())],
        batch_size=2000,
    )
    if last is not None and monitor.state == CheckState.UNKNOWN:
        at, status, ms, message = last
        state = {
            ResultStatus.UP: CheckState.UP,
            ResultStatus.DEGRADED: CheckState.DEGRADED,
            ResultStatus.DOWN: CheckState.DOWN,
        }[ResultStatus(status)]
        since = changed_at
        Monitor.objects.filter(pk=monitor.pk).update(
            state=state,
            state_since=since,
            last_result_at=at,
            last_status=status,
            last_response_ms=ms,
            last_message=message,
        )
        MonitorProbeState.objects.update_or_create(
            monitor=monitor,
            probe=probe,
            defaults={
                "state": state,
                "last_run_at": at,
                "consecutive_failures": 0 if status != ResultStatus.DOWN else 1,
                "consecutive_successes": 1 if status != ResultStatus.DOWN else 0,
            },
        )


def _host_metrics(customer: Customer, now: dt.datetime) -> None:
    """24 h of agent samples (every 5 min) and 30 days of hourly rollups for one server."""
    ci = ConfigurationItem.objects.filter(customer=customer, name=METRIC_HOST).first()
    if ci is None:
        return
    token = AgentToken.objects.filter(customer=customer, name="演示 demo agents").first()
    if token is None:
        token, _secret = tokens.create_agent_token(customer=customer, name="演示 demo agents")
    agent, _created = Agent.objects.get_or_create(
        customer=customer,
        hostname=METRIC_HOST,
        defaults={
            "token": token,
            "ci": ci,
            "addresses": [str(ci.primary_ip or "")],
            "version": "demo",
            "interval_seconds": 300,
            "last_seen_at": now,
        },
    )
    if agent.series.exists():
        return
    rng = random.Random("opsassure-demo-metrics")  # noqa: S311 (demo data)

    def value(name: str, dimension: str, at: dt.datetime) -> float:
        local_hour = (at.hour + 8) % 24 + at.minute / 60
        busy = max(0.0, math.sin((local_hour - 7) / 12 * math.pi))
        if name == "cpu_percent":
            return round(18 + 52 * busy + rng.uniform(-4, 4), 2)
        if name == "mem_used_percent":
            return round(63 + 9 * busy + rng.uniform(-1, 1), 2)
        if name == "disk_used_percent":
            growth = (at - now).total_seconds() / 86400 * 0.15
            return round((71.0 if dimension == "/" else 83.5) + growth, 2)
        if name == "load1":
            return round(3 + 14 * busy + rng.uniform(0, 1.5), 2)
        if name == "net_rx_bytes_per_s":
            return round(2.0e6 + 2.4e7 * busy * rng.uniform(0.8, 1.2), 0)
        return round(1.5e6 + 1.1e7 * busy * rng.uniform(0.8, 1.2), 0)

    metrics = [
        ("cpu_percent", "", "%"),
        ("mem_used_percent", "", "%"),
        ("disk_used_percent", "/", "%"),
        ("disk_used_percent", "/u01", "%"),
        ("load1", "", ""),
        ("net_rx_bytes_per_s", "bond0", "B/s"),
        ("net_tx_bytes_per_s", "bond0", "B/s"),
    ]
    end = now.replace(second=0, microsecond=0)
    end -= dt.timedelta(minutes=end.minute % 5)
    samples: list[SampleIn] = []
    at = end - dt.timedelta(hours=RAW_HOURS)
    while at <= end:
        samples += [SampleIn(n, value(n, d, at), at, d, u) for n, d, u in metrics]
        at += dt.timedelta(minutes=5)
    series_ids, _count = store_samples(
        customer_id=customer.pk, ci_id=ci.pk, samples=samples, agent_id=agent.pk
    )
    keys = {(s.name, s.dimension): s.pk for s in agent.series.filter(pk__in=series_ids)}
    rollups: list[SampleRollup] = []
    first = (end - dt.timedelta(days=ROLLUP_DAYS)).replace(minute=0)
    hour = first
    while hour < end:
        for name, dimension, _unit in metrics:
            points = [value(name, dimension, hour + dt.timedelta(minutes=m)) for m in (0, 20, 40)]
            rollups.append(
                SampleRollup(
                    series_id=keys[(name, dimension)],
                    period=Period.HOUR,
                    bucket=hour,
                    count=12,
                    total=round(sum(points) / 3 * 12, 3),
                    minimum=min(points),
                    maximum=max(points),
                )
            )
        hour += dt.timedelta(hours=1)
    SampleRollup.objects.bulk_create(rollups, batch_size=2000, ignore_conflicts=True)


def load(console: Any) -> None:
    customer = Customer.objects.filter(code=CUSTOMER).first()
    if customer is None:
        return
    now = timezone.now()
    with transaction.atomic():
        probe = tokens.ensure_local_probe()
        for check in CHECKS:
            ci = (
                ConfigurationItem.objects.filter(customer=customer, name=check.ci_name).first()
                if check.ci_name
                else None
            )
            monitor, _created = Monitor.objects.get_or_create(
                customer=customer,
                name=check.name,
                defaults={
                    "kind": check.kind,
                    "target": _target(check),
                    "settings": check.settings,
                    "interval_seconds": check.interval,
                    "timeout_seconds": 5.0 if check.pattern == "slow" else 3.0,
                    "failure_threshold": 2,
                    "success_threshold": 1,
                    "severity": check.severity,
                    "labels": check.labels or {},
                    "ci": ci,
                },
            )
            _history(monitor, check, probe, now)
        RoutingRule.objects.get_or_create(
            name="监控: 检查宕机开事件 Monitoring CheckDown (critical) → incident",
            defaults={
                "customer": customer,
                "position": 5,
                "matchers": ['alertname="CheckDown"'],
                "severities": ["critical"],
                "action": "incident",
            },
        )
        ThresholdRule.objects.get_or_create(
            name="CPU 持续高负载 CPU above 90% for 5 min",
            defaults={
                "customer": customer,
                "metric": "cpu_percent",
                "operator": Operator.GT,
                "threshold": 90,
                "for_seconds": 300,
                "recovery_threshold": 80,
                "severity": Severity.WARNING,
            },
        )
        ThresholdRule.objects.get_or_create(
            name="磁盘将满 Disk above 90% for 10 min",
            defaults={
                "customer": customer,
                "metric": "disk_used_percent",
                "operator": Operator.GT,
                "threshold": 90,
                "for_seconds": 600,
                "recovery_threshold": 85,
                "severity": Severity.CRITICAL,
            },
        )
        _host_metrics(customer, now)
    if console is not None:
        console.print(
            f"monitoring: {len(CHECKS)} checks on the local probe (one flaps, one is slow), "
            "30 days of history, host metrics for his-db-srv01"
        )
