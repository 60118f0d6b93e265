"""Host metrics: storing samples (agents and node_exporter checks) and the agent push.

``store_samples`` is the one write path for samples, whatever their source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q

from opsassure.monitoring.models import MetricSeries, Sample


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
    for key, latest in by_key.items():
        MetricSeries.objects.filter(
            Q(last_at__isnull=True) | Q(last_at__lt=latest.ts), pk=ids[key]
        ).update(last_value=latest.value, last_at=latest.ts, ci_id=ci_id)
    return sorted(ids.values()), inserted
