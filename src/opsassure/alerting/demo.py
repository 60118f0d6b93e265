"""Alerting demo data: integrations, rules, a silence, a maintenance window — and alerts.

Called by ``core.demo.load_demo`` after the CMDB and service-desk demos. Alerts go through
the real pipeline (``ingest.accept`` then ``processing.process_batch``, as the worker would):
a critical HighCPU on the hospital's HIS application server opens an incident, a disk warning
on web02 is silenced, a NodeDown on lis-app01 fired and resolved (its incident resolved with
it), a memory warning on web01 is notify-only. Idempotent: once the demo integration has
alerts, nothing is added.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from opsassure.alerting import ingest, processing, services
from opsassure.alerting.models import (
    InhibitionRule,
    Integration,
    MaintenanceWindow,
    RoutingRule,
    Silence,
)
from opsassure.alerting.payloads import parse_alertmanager
from opsassure.catalog.policies import ensure_default_policy
from opsassure.cmdb.models import ConfigurationItem
from opsassure.core.models import Customer

CUSTOMER = "JCH"


def _alert(
    name: str,
    host: str,
    severity: str,
    summary: str,
    status: str,
    start: dt.datetime,
    end: dt.datetime | None = None,
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {
            "alertname": name,
            "instance": f"{host}:9100",
            "job": "node",
            "severity": severity,
        },
        "annotations": {"summary": summary},
        "startsAt": start.isoformat(),
        "endsAt": (end or dt.datetime(1, 1, 1, tzinfo=dt.UTC)).isoformat(),
        "generatorURL": "http://prometheus.jch.example.cn:9090/graph",
    }


def _post(integration: Integration, group_key: str, alerts: list[dict[str, Any]]) -> None:
    now = timezone.now()
    parsed = parse_alertmanager(
        {
            "version": "4",
            "groupKey": group_key,
            "status": alerts[0]["status"],
            "receiver": "opsassure",
            "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]},
            "alerts": alerts,
        },
        now,
    )
    batch = ingest.accept(integration, parsed, now=now)
    processing.process_batch(batch.pk)


def load(console: Any) -> None:
    customer = Customer.objects.filter(code=CUSTOMER).first()
    if customer is None:
        return
    ensure_default_policy(customer)
    integration, _created = Integration.objects.get_or_create(
        name="Prometheus · 江城医院 JCH", defaults={"kind": "alertmanager", "customer": customer}
    )
    Integration.objects.get_or_create(
        name="Zabbix (provider-wide 全局)", defaults={"kind": "zabbix", "customer": None}
    )
    RoutingRule.objects.get_or_create(
        name="严重告警开事件 Critical and high → incident",
        defaults={"position": 10, "severities": ["critical", "high"], "action": "incident"},
    )
    RoutingRule.objects.get_or_create(
        name="警告仅通知 Warnings → notify only",
        defaults={"position": 20, "severities": ["warning"], "action": "notify"},
    )
    InhibitionRule.objects.get_or_create(
        name="主机宕机抑制其告警 NodeDown hides its warnings",
        defaults={
            "source_matchers": ['alertname="NodeDown"'],
            "target_matchers": ['severity=~"warning|info"'],
            "equal": ["instance"],
        },
    )
    now = timezone.now()
    if not Silence.objects.filter(comment__startswith="web02 磁盘扩容").exists():
        services.create_silence(
            customer=customer,
            matchers_=['alertname="DiskSpaceLow"', 'instance=~"web02.*"'],
            starts_at=now - dt.timedelta(minutes=5),
            ends_at=now + dt.timedelta(hours=4),
            comment="web02 磁盘扩容中 Disk being extended",
            actor=None,
        )
    emr = ConfigurationItem.objects.filter(customer=customer, name="emr-db01").first()
    if emr is not None and not MaintenanceWindow.objects.filter(name__startswith="EMR").exists():
        sunday = (now + dt.timedelta(days=(6 - now.weekday()) % 7)).replace(
            hour=18,
            minute=0,
            second=0,
            microsecond=0,  # 02:00 Asia/Shanghai
        )
        services.create_maintenance_window(
            name="EMR 数据库每周维护 weekly maintenance",
            customer=customer,
            cis=[emr],
            starts_at=sunday,
            ends_at=sunday + dt.timedelta(hours=2),
            recurrence="weekly",
            weekdays=[6],
            time_zone="Asia/Shanghai",
        )
    if integration.alerts.exists():
        return
    ago = now - dt.timedelta(minutes=20)
    _post(
        integration,
        '{}:{alertname="HighCPU"}',
        [
            _alert(
                "HighCPU", "his-app01", "critical", "his-app01 CPU 97% for 10 min", "firing", ago
            ),
        ],
    )
    _post(
        integration,
        '{}:{alertname="DiskSpaceLow"}',
        [
            _alert("DiskSpaceLow", "web02", "warning", "web02 /data 92% full", "firing", ago),
        ],
    )
    _post(
        integration,
        '{}:{alertname="HighMemory"}',
        [
            _alert("HighMemory", "web01", "warning", "web01 memory 91%", "firing", ago),
        ],
    )
    _post(
        integration,
        '{}:{alertname="NodeDown"}',
        [
            _alert("NodeDown", "lis-app01", "critical", "lis-app01 unreachable", "firing", ago),
        ],
    )
    _post(
        integration,
        '{}:{alertname="NodeDown"}',
        [
            _alert(
                "NodeDown",
                "lis-app01",
                "critical",
                "lis-app01 unreachable",
                "resolved",
                ago,
                now - dt.timedelta(minutes=5),
            ),
        ],
    )
    if console is not None:
        console.print("alerting: 2 integrations, 4 alert groups (1 incident open, 1 resolved)")
