"""The configuration audit rule kinds: each one a few set-based SQL queries.

An evaluator gets the rule, the CIs it checks (``Scope``) and the run context, and returns the
failing CIs with a short detail. Only failing rows (and, for required attributes, rows
pre-selected in SQL) are read into Python. Retired and disposed CIs never reach an evaluator:
``Context.base`` already excludes them, so they are neither checked nor the "other" CI of a
duplicate. See ``cmdb/compliance.py`` for what each kind means and for how runs are stored.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTransformFactory
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from opsassure.cmdb import audit_rules
from opsassure.cmdb.models import (
    CIAddress,
    CIType,
    ConfigAuditRule,
    ConfigurationItem,
    Lifecycle,
    Relation,
)

logger = logging.getLogger(__name__)

DETAIL_MAX = 300
_NAMES_SHOWN = 3
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")  # the names schema validation allows

Kind = ConfigAuditRule.Kind
# ci id -> (customer id, CI type id, detail)
Failures = dict[int, tuple[int | None, int, str]]


@dataclass(frozen=True)
class Context:
    base: QuerySet[ConfigurationItem]  # every active CI in the run's customer scope
    now: dt.datetime
    today: dt.date


@dataclass(frozen=True)
class Scope:
    """The CIs one rule checks: active CIs of the rule's types (``type_ids`` None: all)."""

    items: QuerySet[ConfigurationItem]
    type_ids: frozenset[int] | None

    def covers(self, type_id: int) -> bool:
        return self.type_ids is None or type_id in self.type_ids


def _clip(text: str) -> str:
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


def _names(names: list[str]) -> str:
    shown = ", ".join(sorted(names)[:_NAMES_SHOWN])
    extra = len(names) - _NAMES_SHOWN
    return shown + (_(" (+%(n)d more)") % {"n": extra} if extra > 0 else "")


def _plain_json_key(name: str) -> bool:
    """Can ``attributes__<name>`` only mean the key ``name`` (not a lookup like "in")?"""
    field = ConfigurationItem._meta.get_field("attributes")
    return (
        _KEY.match(name) is not None
        and field.get_lookup(name) is None
        and isinstance(field.get_transform(name), KeyTransformFactory)
    )


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _missing_required(rule: ConfigAuditRule, scope: Scope, ctx: Context) -> Failures:
    failures: Failures = {}
    template = _("missing: %(fields)s")
    types = CIType.objects.order_by("pk")
    if scope.type_ids is not None:
        types = types.filter(pk__in=scope.type_ids)
    for ci_type in types:
        fields: list[models.Field[Any, Any]] = []
        for name in ci_type.required_fields or []:
            try:
                field = ConfigurationItem._meta.get_field(name)
            except FieldDoesNotExist:  # a stale name in a type is ignored, not fatal
                logger.warning("CI type %s requires unknown field %r", ci_type.code, name)
                continue
            if isinstance(field, models.Field) and field.concrete and not field.many_to_many:
                fields.append(field)
        attributes = [
            str(spec["name"])
            for spec in ci_type.attribute_schema or []
            if isinstance(spec, dict) and spec.get("required") and spec.get("name")
        ]
        if not fields and not attributes:
            continue
        condition = Q()
        for field in fields:
            empty = Q(**{f"{field.attname}__isnull": True})
            if isinstance(field, models.CharField | models.TextField):
                empty |= Q(**{field.attname: ""})
            condition |= empty
        for name in attributes:
            if _plain_json_key(name):
                condition |= (
                    ~Q(attributes__has_key=name)
                    | Q(**{f"attributes__{name}": None})
                    | Q(**{f"attributes__{name}": ""})
                )
            else:  # a name Django would read as a lookup: pre-select all, decide below
                condition |= Q(pk__isnull=False)
        columns = [field.attname for field in fields]
        rows = (
            scope.items.filter(ci_type_id=ci_type.pk)
            .filter(condition)
            .order_by()
            .values_list("id", "customer_id", *columns, "attributes")
        )
        for row in rows.iterator(chunk_size=2000):
            ci_id, customer_id, *values, stored = row
            stored = stored if isinstance(stored, dict) else {}
            missing = [
                field.name for field, value in zip(fields, values, strict=True) if _blank(value)
            ]
            missing += [name for name in attributes if _blank(stored.get(name))]
            if missing:
                detail = _clip(template % {"fields": ", ".join(missing)})
                failures[ci_id] = (customer_id, ci_type.pk, detail)
    return failures


def _not_verified(rule: ConfigAuditRule, scope: Scope, ctx: Context) -> Failures:
    days = audit_rules.clean_days(rule.params or {})
    cutoff = ctx.now - dt.timedelta(days=days)
    never = _("never verified")
    failures: Failures = {
        ci_id: (customer_id, type_id, never)
        for ci_id, customer_id, type_id in scope.items.filter(verified_at__isnull=True)
        .order_by()
        .values_list("id", "customer_id", "ci_type_id")
        .iterator(chunk_size=5000)
    }
    template = _("last verified %(days)d days ago")
    stale = (
        scope.items.filter(verified_at__lt=cutoff)
        .order_by()
        .values_list("id", "customer_id", "ci_type_id", "verified_at")
    )
    for ci_id, customer_id, type_id, verified_at in stale.iterator(chunk_size=5000):
        if verified_at is not None:  # always, by the filter; keeps the types honest
            age = (ctx.now - verified_at).days
            failures[ci_id] = (customer_id, type_id, template % {"days": age})
    return failures


def _duplicates(
    scope: Scope,
    ctx: Context,
    key: Any,
    exclude_empty: Q,
    describe: Callable[[str], str],
) -> Failures:
    """CIs in ``scope`` whose ``key`` value is shared with another active CI of their customer."""
    keyed = ctx.base.exclude(exclude_empty).annotate(audit_key=key)
    shared_values = (
        keyed.order_by()
        .values("customer_id", "audit_key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values("audit_key")
    )
    candidates = keyed.filter(audit_key__in=Subquery(shared_values)).order_by()
    groups: dict[tuple[int | None, str], list[tuple[int, int, str]]] = defaultdict(list)
    rows: Iterable[Any] = candidates.values_list(
        "id", "customer_id", "ci_type_id", "audit_key", "name"
    ).iterator(chunk_size=5000)
    for ci_id, customer_id, type_id, value, name in rows:
        groups[(customer_id, value)].append((ci_id, type_id, name))
    failures: Failures = {}
    for (customer_id, _value), members in groups.items():
        if len(members) < 2:
            continue  # the value is shared in another customer only
        for ci_id, type_id, _name in members:
            if not scope.covers(type_id):
                continue
            others = [name for other_id, _t, name in members if other_id != ci_id]
            failures[ci_id] = (customer_id, type_id, _clip(describe(_names(others))))
    return failures


def _duplicate_serial(rule: ConfigAuditRule, scope: Scope, ctx: Context) -> Failures:
    return _duplicates(
        scope,
        ctx,
        models.F("serial_number"),
        Q(serial_number=""),
        lambda others: _("same serial number as %(others)s") % {"others": others},
    )


def _duplicate_hostname(rule: ConfigAuditRule, scope: Scope, ctx: Context) -> Failures:
    return _duplicates(
        scope,
        ctx,
        Lower("hostname"),
        Q(hostname=""),
        lambda others: _("same hostname as %(others)s") % {"others": others},
    )


def _duplicate_ip(rule: ConfigAuditRule, scope: Scope, ctx: Context) -> Failures:
    """An address (primary IP or any CIAddress) held by two active CIs of the same customer."""
    active = ctx.base.values("pk")
    rows_table = CIAddress.objects.filter(ci_id__in=active)
    primary = ctx.base.filter(primary_ip__isnull=False)
    # Candidate addresses, each query on an indexed column; the exact test is done below.
    in_table_twice = rows_table.order_by().values("address").annotate(n=Count("id")).filter(n__gt=1)
    primary_twice = primary.order_by().values("primary_ip").annotate(n=Count("id")).filter(n__gt=1)
    primary_elsewhere = primary.filter(
        Exists(
            CIAddress.objects.filter(address=OuterRef("primary_ip")).exclude(ci_id=OuterRef("pk"))
        )
    )
    candidates = {str(a) for a in in_table_twice.values_list("address", flat=True)}
    candidates |= {str(a) for a in primary_twice.values_list("primary_ip", flat=True) if a}
    candidates |= {str(a) for a in primary_elsewhere.values_list("primary_ip", flat=True) if a}
    if not candidates:
        return {}
    holders: dict[tuple[int | None, str], dict[int, tuple[int, str]]] = defaultdict(dict)
    values = sorted(candidates)
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        for ci_id, customer_id, type_id, name, address in rows_table.filter(
            address__in=chunk
        ).values_list("ci_id", "ci__customer_id", "ci__ci_type_id", "ci__name", "address"):
            holders[(customer_id, str(address))][ci_id] = (type_id, name)
        for ci_id, customer_id, type_id, name, address in primary.filter(
            primary_ip__in=chunk
        ).values_list("id", "customer_id", "ci_type_id", "name", "primary_ip"):
            holders[(customer_id, str(address))][ci_id] = (type_id, name)
    per_ci: dict[int, tuple[int | None, int, list[str]]] = {}
    for (customer_id, address), cis in sorted(holders.items(), key=lambda item: item[0][1]):
        if len(cis) < 2:
            continue
        for ci_id, (type_id, _name) in cis.items():
            if not scope.covers(type_id):
                continue
            others = [name for other_id, (_t, name) in cis.items() if other_id != ci_id]
            part = _("%(address)s also on %(others)s") % {
                "address": address,
                "others": _names(others),
            }
            per_ci.setdefault(ci_id, (customer_id, type_id, []))[2].append(part)
    return {
        ci_id: (customer_id, type_id, _clip("; ".join(parts)))
        for ci_id, (customer_id, type_id, parts) in per_ci.items()
    }


def _orphan(rule: ConfigAuditRule, scope: Scope, ctx: Context) -> Failures:
    rows = (
        scope.items.filter(
            ~Exists(Relation.objects.filter(source_id=OuterRef("pk"))),
            ~Exists(Relation.objects.filter(target_id=OuterRef("pk"))),
        )
        .order_by()
        .values_list("id", "customer_id", "ci_type_id")
    )
    detail = _("no relation to any other CI")
    return {
        ci_id: (customer_id, type_id, detail)
        for ci_id, customer_id, type_id in rows.iterator(chunk_size=5000)
    }


def _warranty_expired_in_use(rule: ConfigAuditRule, scope: Scope, ctx: Context) -> Failures:
    rows = (
        scope.items.filter(status=Lifecycle.IN_USE, warranty_end__lt=ctx.today)
        .order_by()
        .values_list("id", "customer_id", "ci_type_id", "warranty_end")
    )
    template = _("in use, warranty ended %(date)s")
    return {
        ci_id: (customer_id, type_id, template % {"date": ended.isoformat() if ended else ""})
        for ci_id, customer_id, type_id, ended in rows.iterator(chunk_size=5000)
    }


def _custom(rule: ConfigAuditRule, scope: Scope, ctx: Context) -> Failures:
    cleaned = audit_rules.clean_failing_filter(rule.failing_filter)
    described = audit_rules.describe_filter(rule.failing_filter)
    detail = _clip(_("matches %(filter)s") % {"filter": described})
    rows = scope.items.filter(**cleaned).order_by().values_list("id", "customer_id", "ci_type_id")
    return {
        ci_id: (customer_id, type_id, detail)
        for ci_id, customer_id, type_id in rows.distinct().iterator(chunk_size=5000)
    }


EVALUATORS: dict[str, Callable[[ConfigAuditRule, Scope, Context], Failures]] = {
    Kind.MISSING_REQUIRED: _missing_required,
    Kind.NOT_VERIFIED: _not_verified,
    Kind.DUPLICATE_SERIAL: _duplicate_serial,
    Kind.DUPLICATE_IP: _duplicate_ip,
    Kind.DUPLICATE_HOSTNAME: _duplicate_hostname,
    Kind.ORPHAN: _orphan,
    Kind.WARRANTY_EXPIRED_IN_USE: _warranty_expired_in_use,
    Kind.CUSTOM: _custom,
}
