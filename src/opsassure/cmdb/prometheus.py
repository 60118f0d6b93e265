"""Prometheus HTTP service discovery from the CMDB (read side).

Prometheus polls ``GET /api/v1/cmdb/prometheus-sd/`` and expects a JSON list of target groups
``{"targets": ["host:port"], "labels": {name: value}}`` with string values and label names
matching ``[a-zA-Z_][a-zA-Z0-9_]*``. Every CI with a monitoring endpoint in use (or under
maintenance) becomes one group; its ``__meta_opsassure_*`` labels are meant to be relabelled
into target labels in the scrape config (Prometheus drops ``__meta_*`` labels after relabelling).

The business services a CI supports are found set-based: the downstream impact walk of
``queries.impact`` done for all listed CIs at once, level by level, ``SERVICE_DEPTH`` hops deep
(two indexed queries per hop, whatever the number of CIs). Three hops cover the usual chain
"server hosts vm ← application runs on vm ← business service depends on application"; deeper
dependencies are left out of the label, by design, to keep the answer fast.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from opsassure.cmdb.models import ConfigurationItem, Lifecycle, Relation
from opsassure.cmdb.queries import TO_SOURCE, TO_TARGET
from opsassure.core.models import User
from opsassure.core.tenancy import scoped

SCRAPED_STATUSES = (Lifecycle.IN_USE, Lifecycle.MAINTENANCE)
SERVICE_DEPTH = 3
SERVICE_TYPE = "business_service"
LABEL_PREFIX = "__meta_opsassure_"
_CHUNK = 2000
# Stop widening the walk beyond this many (CI, reached CI) pairs; the labels stay partial.
_MAX_PAIRS = 500_000


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _downstream_edges(frontier: list[int]) -> list[tuple[int, int]]:
    """(failing CI, affected CI) one hop away, as in ``queries.impact(direction="downstream")``."""
    edges: list[tuple[int, int]] = []
    for chunk in _chunks(frontier):
        # target fails -> source affected (app runs_on vm); source fails -> target affected.
        edges.extend(
            (target, source)
            for source, target in Relation.objects.filter(
                target_id__in=chunk, relation_type__in=TO_SOURCE
            ).values_list("source_id", "target_id")
        )
        edges.extend(
            Relation.objects.filter(source_id__in=chunk, relation_type__in=TO_TARGET).values_list(
                "source_id", "target_id"
            )
        )
    return edges


def supported_services(
    ci_ids: Iterable[int], user: User | AnonymousUser, depth: int = SERVICE_DEPTH
) -> dict[int, list[str]]:
    """CI id -> sorted names of the business services affected when that CI fails.

    Only services ``user`` may see are named; the CI itself does not count as its own service.
    """
    origins: dict[int, set[int]] = {ci_id: {ci_id} for ci_id in ci_ids}
    frontier = set(origins)
    pairs = len(origins)
    for _hop in range(depth):
        if not frontier or pairs > _MAX_PAIRS:
            break
        grown: dict[int, set[int]] = defaultdict(set)
        for failing, affected in _downstream_edges(sorted(frontier)):
            new = origins[failing] - origins.get(affected, set()) - grown[affected]
            if new:
                grown[affected] |= new
        for node, new in grown.items():
            if new:
                origins.setdefault(node, set()).update(new)
                pairs += len(new)
        frontier = {node for node, new in grown.items() if new}
    names: dict[int, set[str]] = defaultdict(set)
    visible = scoped(ConfigurationItem, user).filter(ci_type__code=SERVICE_TYPE)
    for chunk in _chunks(sorted(origins)):
        for service_id, name in visible.filter(pk__in=chunk).values_list("pk", "name"):
            for origin in origins[service_id]:
                if origin != service_id:
                    names[origin].add(name)
    return {ci_id: sorted(found) for ci_id, found in names.items()}


def target_groups(
    queryset: QuerySet[ConfigurationItem], user: User | AnonymousUser
) -> list[dict[str, Any]]:
    """The http_sd answer for the (already scoped and filtered) CIs of ``queryset``."""
    rows = list(
        queryset.filter(status__in=SCRAPED_STATUSES)
        .exclude(monitoring_endpoint="")
        .order_by("pk")
        .values_list(
            "pk",
            "name",
            "customer__code",
            "ci_type__code",
            "environment",
            "criticality",
            "monitoring_endpoint",
        )
    )
    services = supported_services([row[0] for row in rows], user)
    groups: list[dict[str, Any]] = []
    for pk, name, customer_code, type_code, environment, criticality, endpoint in rows:
        target = endpoint.strip()
        if not target:
            continue
        labels = {
            "customer": customer_code or "",
            "ci": name,
            "ci_id": str(pk),
            "type": type_code,
            "environment": environment,
            "criticality": str(criticality),
            "service": ",".join(services.get(pk, [])),
        }
        groups.append(
            {
                "targets": [target],
                "labels": {f"{LABEL_PREFIX}{key}": value for key, value in labels.items()},
            }
        )
    return groups
