"""Host metrics: storing samples (agents and node_exporter checks) and the agent push.

``store_samples`` is the one write path for samples, whatever their source; ``accept_push``
is the server side of ``opsassure agent`` (validation in ``pushdata``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from opsassure.cmdb import discovery
from opsassure.cmdb import services as cmdb_services
from opsassure.cmdb.models import ConfigurationItem, Discovery
from opsassure.core.jobs import enqueue_on_commit
from opsassure.monitoring import rollups
from opsassure.monitoring.models import Agent, AgentToken, MetricSeries, Sample
from opsassure.monitoring.pushdata import AgentUnauthorizedError, Push, PushError, parse_push
from opsassure.monitoring.tokens import authenticate_agent


@dataclass(frozen=True)
class SampleIn:
    name: str
    value: float
    ts: dt.datetime
    dimension: str = ""
    unit: str = ""


def series_key(*, agent_id: int | None, monitor_id: int | None, name: str, dimension: str) -> str:
    source = f"agent:{agent_id}" if agent_id is not None else f"monitor:{monitor_id}"
    return f"{source}:{name}:{dimension}"


def store_samples(
    *,
    customer_id: int,
    ci_id: int | None,
    samples: Sequence[SampleIn],
    agent_id: int | None = None,
    monitor_id: int | None = None,
) -> tuple[list[int], int]:
    """Create missing series, insert the samples (a (series, ts) already stored is skipped),
    move each series' last value forward. Returns (series ids touched, samples inserted).
    Call inside the caller's transaction."""
    if (agent_id is None) == (monitor_id is None):
        raise ValueError("exactly one of agent_id and monitor_id")
    if not samples:
        return [], 0
    by_key: dict[str, SampleIn] = {}
    keyed: list[tuple[str, SampleIn]] = []
    for sample in samples:
        key = series_key(
            agent_id=agent_id, monitor_id=monitor_id, name=sample.name, dimension=sample.dimension
        )
        keyed.append((key, sample))
        latest = by_key.get(key)
        if latest is None or sample.ts > latest.ts:
            by_key[key] = sample
    ids = dict(MetricSeries.objects.filter(key__in=by_key).values_list("key", "id"))
    missing = [key for key in by_key if key not in ids]
    if missing:
        MetricSeries.objects.bulk_create(
            [
                MetricSeries(
                    key=key,
                    customer_id=customer_id,
                    ci_id=ci_id,
                    agent_id=agent_id,
                    monitor_id=monitor_id,
                    name=by_key[key].name,
                    dimension=by_key[key].dimension,
                    unit=by_key[key].unit,
                )
                for key in missing
            ],
            ignore_conflicts=True,  # a concurrent push created it: fine, read it back
        )
        ids.update(MetricSeries.objects.filter(key__in=missing).values_list("key", "id"))
    # Which (series, ts) are already stored: a re-sent push is acknowledged, not re-counted.
    stamps = {sample.ts for _key, sample in keyed}
    seen = set(
        Sample.objects.filter(series_id__in=ids.values(), ts__in=stamps).values_list(
            "series_id", "ts"
        )
    )
    rows: list[Sample] = []
    for key, sample in keyed:
        pair = (ids[key], sample.ts)
        if pair not in seen:
            seen.add(pair)
            rows.append(Sample(series_id=pair[0], ts=sample.ts, value=sample.value))
    Sample.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    inserted = len(rows)
    if rows:
        times = [row.ts for row in rows]
        rollups.note_late(min(times), max(times), now=timezone.now())
    for key, latest in by_key.items():
        MetricSeries.objects.filter(
            Q(last_at__isnull=True) | Q(last_at__lt=latest.ts), pk=ids[key]
        ).update(last_value=latest.value, last_at=latest.ts, ci_id=ci_id)
    return sorted(ids.values()), inserted


# --- The agent push --------------------------------------------------------------------------


@dataclass(frozen=True)
class PushResult:
    agent_id: int
    ci_id: int | None
    accepted: int
    duplicates: int
    refused: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent_id,
            "ci": self.ci_id,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "refused": self.refused,
        }


def match_ci(customer_id: int, hostname: str, addresses: Sequence[str]) -> tuple[int | None, str]:
    """(CI id, matched by) among the customer's own CIs: host name (also its short form),
    then any of the addresses. A key that hits several CIs decides nothing."""
    candidates = ConfigurationItem.objects.filter(customer_id=customer_id)
    keys: dict[str, Any] = {"hostname": hostname, "ip_addresses": list(addresses)}
    found, matched_by = discovery.find_ci(candidates, keys)
    short = hostname.split(".", 1)[0]
    if found is None and short != hostname:
        found, matched_by = discovery.find_ci(candidates, {"hostname": short})
    return found, matched_by


def discovery_facts(push: Push) -> dict[str, Any]:
    """The agent's facts in the CMDB discovery vocabulary (``cmdb.discovery.ALLOWED_FACTS``)."""
    facts = push.facts or {}
    observed: dict[str, Any] = {
        "hostname": push.hostname,
        "ip_addresses": sorted(push.addresses)[: cmdb_services.MAX_ADDRESSES],
        "os": facts.get("os"),
        "cpu_count": facts.get("cpu_count"),
        "serial_number": facts.get("serial"),
        "vendor": facts.get("vendor"),
        "model": facts.get("model"),
        "attr:kernel": facts.get("kernel"),
    }
    if facts.get("memory_bytes"):
        observed["memory_gb"] = round(facts["memory_bytes"] / 2**30)
    return {key: value for key, value in observed.items() if value not in (None, "", [])}


def _record_facts(agent: Agent, observed: dict[str, Any], cleaned: dict[str, Any], by: str) -> None:
    """A discovery record, reconciled against the matched CI like any other observation."""
    ci = None
    if agent.ci_id is not None:
        ci = (
            ConfigurationItem.objects.select_for_update(of=("self",))
            .select_related("ci_type")
            .get(pk=agent.ci_id)
        )
    record = Discovery.objects.create(
        received_at=timezone.now(),
        source="opsassure-agent",
        customer_id=agent.customer_id,
        ci=ci,
        facts=observed,
        matched_by=by if ci is not None else "",
    )
    if ci is not None:
        # cmdb.discovery.record_discovery needs a reporting user; an agent is none, so the
        # observation is stored here and reconciled with the same rules.
        discovery._reconcile(record, ci, cleaned)


def _agent_for(token: AgentToken, push: Push, now: dt.datetime) -> Agent:
    agent = (
        Agent.objects.select_for_update()
        .filter(customer_id=token.customer_id, hostname=push.hostname)
        .first()
    )
    if agent is not None:
        return agent
    try:
        with transaction.atomic():
            return Agent.objects.create(
                customer_id=token.customer_id,
                token=token,
                hostname=push.hostname,
                addresses=push.addresses,
                version=push.version,
                interval_seconds=push.interval,
                last_seen_at=now,
            )
    except IntegrityError:  # the same host's concurrent first push created it
        return Agent.objects.select_for_update().get(
            customer_id=token.customer_id, hostname=push.hostname
        )


def accept_push(
    token: AgentToken | str, payload: Any, *, now: dt.datetime | None = None
) -> PushResult:
    """Store an agent's push: the agent row, its CI, the samples, changed facts.

    All or nothing: a wrong or revoked token (``AgentUnauthorizedError``, 401) or a malformed
    push (``PushError``, 400) writes nothing. Points stamped more than
    ``MONITORING_MAX_FUTURE_SECONDS`` ahead or older than the raw retention are refused one
    by one (listed in the answer); samples already stored (a re-sent push) count as
    duplicates. Threshold rules over the touched series run after the commit.
    """
    from opsassure.monitoring.tasks import monitoring_evaluate

    row = authenticate_agent(token) if isinstance(token, str) else token
    if row is None or row.revoked_at is not None:
        raise AgentUnauthorizedError(_("Unknown or revoked agent token."))
    push = parse_push(payload)
    now = now or timezone.now()
    observed = discovery_facts(push) if push.facts is not None else {}
    try:
        cleaned = discovery.clean_facts(observed) if observed else {}
    except ValidationError as error:
        raise PushError(
            "; ".join(error.messages), fields={"facts": list(error.messages)}
        ) from error
    latest = now + dt.timedelta(seconds=settings.MONITORING_MAX_FUTURE_SECONDS)
    oldest = now - dt.timedelta(days=settings.MONITORING_RAW_RETENTION_DAYS)
    refused: list[dict[str, Any]] = []
    samples: list[SampleIn] = []
    for index, point in enumerate(push.points):
        if point.ts > latest:
            refused.append({"index": index, "reason": _("timestamp is in the future")})
            continue
        if point.ts < oldest:
            refused.append({"index": index, "reason": _("older than the retention period")})
            continue
        samples += [
            SampleIn(name=m.name, value=m.value, ts=point.ts, dimension=m.dimension, unit=m.unit)
            for m in point.metrics
        ]
    with transaction.atomic():
        agent = _agent_for(row, push, now)
        moved = agent.hostname != push.hostname or agent.addresses != push.addresses
        by = ""
        if agent.ci_id is None or moved or observed:
            agent.ci_id, by = match_ci(row.customer_id, push.hostname, push.addresses)
        changed_facts = push.facts is not None and push.facts != agent.facts
        agent.token = row
        agent.addresses = push.addresses
        agent.version = push.version
        agent.interval_seconds = push.interval
        agent.last_seen_at = now
        if changed_facts:
            agent.facts = push.facts or {}
        agent.save()
        if changed_facts:
            _record_facts(agent, observed, cleaned, by)
        series_ids, inserted = store_samples(
            customer_id=row.customer_id, ci_id=agent.ci_id, samples=samples, agent_id=agent.pk
        )
        AgentToken.objects.filter(pk=row.pk).update(last_used_at=now)
        if series_ids:
            enqueue_on_commit(monitoring_evaluate, series_ids)
    return PushResult(
        agent_id=agent.pk,
        ci_id=agent.ci_id,
        accepted=inserted,
        duplicates=len(samples) - inserted,
        refused=refused,
    )
