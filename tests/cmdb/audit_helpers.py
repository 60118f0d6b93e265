"""Helpers shared by the configuration audit tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from opsassure.cmdb.models import (
    CIAddress,
    CIType,
    ConfigAuditFinding,
    ConfigAuditRule,
    ConfigAuditRun,
    ConfigAuditScore,
    ConfigurationItem,
)
from opsassure.core.models import Customer


def make_ci(
    customer: Customer | None,
    name: str,
    type_code: str = "server",
    *,
    addresses: tuple[str, ...] = (),
    **fields: Any,
) -> ConfigurationItem:
    """A CI written directly (the audit must also judge data that bypassed the services)."""
    ci = ConfigurationItem.objects.create(
        customer=customer, ci_type=CIType.objects.get(code=type_code), name=name, **fields
    )
    CIAddress.objects.bulk_create([CIAddress(ci=ci, address=a) for a in addresses])
    return ci


def server(customer: Customer | None, name: str, **fields: Any) -> ConfigurationItem:
    """A server passing "required attributes" unless a field is overridden with ""."""
    values: dict[str, Any] = {
        "serial_number": f"SN-{name}",
        "vendor": "Huawei",
        "model": "2288H V5",
        "hostname": name,
    }
    values.update(fields)
    return make_ci(customer, name, "server", **values)


def only_rule(kind: str, **values: Any) -> ConfigAuditRule:
    """Disable every other rule; return the enabled built-in of ``kind`` or a new custom one."""
    ConfigAuditRule.objects.update(is_enabled=False)
    if kind == ConfigAuditRule.Kind.CUSTOM:
        rule = ConfigAuditRule.objects.create(code="custom-test", name="Custom test", kind=kind)
    else:
        rule = ConfigAuditRule.objects.get(kind=kind)
    for name, value in values.items():
        setattr(rule, name, value)
    rule.is_enabled = True
    rule.save()
    return rule


def failing(run: ConfigAuditRun, rule: ConfigAuditRule | None = None) -> dict[str, str]:
    """CI name -> finding detail for a run (and rule)."""
    findings = ConfigAuditFinding.objects.filter(run=run).select_related("ci")
    if rule is not None:
        findings = findings.filter(rule=rule)
    return {f.ci.name: f.detail for f in findings}


def scores(run: ConfigAuditRun) -> set[tuple[str, str | None, str, int, int]]:
    """(rule code, customer code, type code, checked, failed) of a run."""
    return {
        (s.rule.code, s.customer.code if s.customer else None, s.ci_type.code, s.checked, s.failed)
        for s in ConfigAuditScore.objects.filter(run=run).select_related(
            "rule", "customer", "ci_type"
        )
    }


def days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)
