"""Is an alert suppressed right now — by a silence, a maintenance window or an inhibition rule?

Suppressed alerts are stored like any other (visible as suppressed, with what suppressed them);
they only open no incident and page nobody. The sweep re-checks suppressed firing alerts every
minute and releases those whose silence or window ended.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from opsassure.alerting import matchers
from opsassure.alerting.models import (
    Alert,
    InhibitionRule,
    MaintenanceWindow,
    Recurrence,
    Silence,
)
from opsassure.cmdb.models import ConfigurationItem
from opsassure.core.models import User

INHIBITION_CANDIDATES = 500


def system_viewer() -> User:
    """An unsaved superuser: lets the CMDB impact walk see every CI (it never touches a view)."""
    return User(username="system", is_superuser=True, is_active=True)


def dependents(ci_ids: Iterable[int]) -> set[int]:
    """The CIs affected when these CIs go down (CMDB impact, downstream, 5 hops)."""
    from opsassure.cmdb.queries import impact

    viewer = system_viewer()
    found: set[int] = set()
    for ci in ConfigurationItem.objects.filter(pk__in=list(ci_ids)).order_by("pk"):
        found.update(impact(ci, viewer, depth=5, direction="downstream").nodes)
    return found


def occurrence_active(window: MaintenanceWindow, now: dt.datetime) -> bool:
    """Whether ``now`` falls in an occurrence of the window (recurrences in its time zone)."""
    if window.recurrence == Recurrence.NONE:
        return window.starts_at <= now < window.ends_at
    if now < window.starts_at:
        return False
    try:
        zone = zoneinfo.ZoneInfo(window.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    duration = window.ends_at - window.starts_at
    first = window.starts_at.astimezone(zone)
    local_now = now.astimezone(zone)
    weekdays = set(window.weekdays or [first.weekday()])
    span_days = duration.days + 1
    for back in range(span_days + 1):
        day = local_now.date() - dt.timedelta(days=back)
        if window.repeat_until is not None and day > window.repeat_until:
            continue
        if window.recurrence == Recurrence.WEEKLY and day.weekday() not in weekdays:
            continue
        start = dt.datetime.combine(day, first.timetz().replace(tzinfo=None)).replace(tzinfo=zone)
        if start < window.starts_at:
            continue
        if start <= now < start + duration:
            return True
    return False


@dataclass
class Context:
    """Silences and windows active at ``now``, loaded once per batch."""

    now: dt.datetime
    silences: list[tuple[Silence, set[int]]] = field(default_factory=list)
    windows: list[tuple[MaintenanceWindow, set[int]]] = field(default_factory=list)
    inhibitions: list[InhibitionRule] = field(default_factory=list)

    @classmethod
    def load(cls, now: dt.datetime) -> Context:
        context = cls(now=now)
        for silence in Silence.objects.filter(starts_at__lte=now, ends_at__gt=now).prefetch_related(
            "cis"
        ):
            context.silences.append((silence, {ci.pk for ci in silence.cis.all()}))
        windows = MaintenanceWindow.objects.filter(
            Q(recurrence=Recurrence.NONE, starts_at__lte=now, ends_at__gt=now)
            | (~Q(recurrence=Recurrence.NONE) & Q(starts_at__lte=now))
        ).prefetch_related("cis")
        for window in windows:
            if not occurrence_active(window, now):
                continue
            ci_ids = {ci.pk for ci in window.cis.all()}
            if window.include_dependents and ci_ids:
                ci_ids |= dependents(ci_ids)
            context.windows.append((window, ci_ids))
        context.inhibitions = list(InhibitionRule.objects.filter(enabled=True).order_by("pk"))
        return context

    def suppressor(self, alert: Alert) -> dict[str, Any]:
        """What suppresses ``alert`` ({} if nothing): the first silence, window or rule."""
        labels = alert.labels
        for silence, ci_ids in self.silences:
            if not _same_customer(silence.customer_id, alert.customer_id):
                continue
            if _matches(silence.matchers, ci_ids, labels, alert.ci_id):
                return {"kind": "silence", "id": silence.pk, "name": silence.comment[:200]}
        for window, ci_ids in self.windows:
            if not _same_customer(window.customer_id, alert.customer_id):
                continue
            if _matches(window.matchers, ci_ids, labels, alert.ci_id):
                return {"kind": "maintenance", "id": window.pk, "name": window.name}
        for rule in self.inhibitions:
            if not _same_customer(rule.customer_id, alert.customer_id):
                continue
            source = _inhibiting_alert(rule, alert)
            if source is not None:
                return {"kind": "inhibition", "id": rule.pk, "name": rule.name, "source": source}
        return {}


def _same_customer(rule_customer: int | None, alert_customer: int | None) -> bool:
    return rule_customer is None or rule_customer == alert_customer


def _matches(texts: list[str], ci_ids: set[int], labels: dict[str, str], ci_id: int | None) -> bool:
    """CIs (if any) and matchers (if any) must both hold; an entry with neither matches nothing."""
    if not texts and not ci_ids:
        return False
    if ci_ids and ci_id not in ci_ids:
        return False
    return matchers.match_all(texts, labels)


def _inhibiting_alert(rule: InhibitionRule, alert: Alert) -> int | None:
    """The id of a firing alert that inhibits ``alert`` under ``rule``, or None."""
    if not rule.target_matchers or not matchers.match_all(rule.target_matchers, alert.labels):
        return None
    candidates = Alert.objects.filter(status="firing", suppressed=False).exclude(pk=alert.pk)
    if rule.customer_id is not None or alert.customer_id is not None:
        candidates = candidates.filter(customer_id=alert.customer_id)
    for name in rule.equal:
        candidates = candidates.filter(**{f"labels__{name}": alert.labels.get(name, "")})
    for parsed in matchers.parse_all(rule.source_matchers):
        if parsed.op == "=":
            candidates = candidates.filter(**{f"labels__{parsed.name}": parsed.value})
    for pk, labels in candidates.order_by("pk").values_list("pk", "labels")[:INHIBITION_CANDIDATES]:
        if matchers.match_all(rule.source_matchers, labels):
            return int(pk)
    return None
