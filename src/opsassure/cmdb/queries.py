"""Read-side CMDB queries: impact graphs, a CI at a past date, expiring warranties."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from opsassure.cmdb.models import (
    IMPACT_DIRECTION,
    CIChange,
    ConfigurationItem,
    Relation,
)
from opsassure.core.models import User
from opsassure.core.tenancy import scoped

TO_SOURCE = [t for t, d in IMPACT_DIRECTION.items() if d == "to_source"]
TO_TARGET = [t for t, d in IMPACT_DIRECTION.items() if d == "to_target"]
MAX_DEPTH = 10
MAX_NODES = 5000
_CHUNK = 2000


@dataclass
class ImpactGraph:
    root_id: int
    direction: str
    depth: int
    nodes: dict[int, dict[str, Any]] = field(default_factory=dict)
    edges: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False

    @property
    def affected_services(self) -> list[dict[str, Any]]:
        return [
            n
            for n in self.nodes.values()
            if n["type"] == "business_service" and n["id"] != self.root_id
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": self.root_id,
            "direction": self.direction,
            "depth": self.depth,
            "truncated": self.truncated,
            "nodes": list(self.nodes.values()),
            "edges": self.edges,
            "affected_services": self.affected_services,
        }


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _step(frontier: set[int], direction: str) -> list[tuple[int, int, int, str]]:
    """Edges (relation id, from, to, type) one hop away in the direction of impact.

    ``downstream``: who is affected if a frontier CI fails. ``upstream``: what the frontier
    CIs need (the reverse walk).
    """
    rows: list[tuple[int, int, int, str]] = []
    ids = list(frontier)
    for chunk in _chunks(ids):
        if direction == "downstream":
            # target fails -> source affected; source fails -> target affected
            for rid, src, tgt, kind in Relation.objects.filter(
                target_id__in=chunk, relation_type__in=TO_SOURCE
            ).values_list("id", "source_id", "target_id", "relation_type"):
                rows.append((rid, tgt, src, kind))
            for rid, src, tgt, kind in Relation.objects.filter(
                source_id__in=chunk, relation_type__in=TO_TARGET
            ).values_list("id", "source_id", "target_id", "relation_type"):
                rows.append((rid, src, tgt, kind))
        else:
            for rid, src, tgt, kind in Relation.objects.filter(
                source_id__in=chunk, relation_type__in=TO_SOURCE
            ).values_list("id", "source_id", "target_id", "relation_type"):
                rows.append((rid, src, tgt, kind))
            for rid, src, tgt, kind in Relation.objects.filter(
                target_id__in=chunk, relation_type__in=TO_TARGET
            ).values_list("id", "source_id", "target_id", "relation_type"):
                rows.append((rid, tgt, src, kind))
    return rows


def impact(
    ci: ConfigurationItem,
    user: User | AnonymousUser,
    *,
    depth: int = 5,
    direction: str = "downstream",
) -> ImpactGraph:
    """The CIs affected by (downstream) or needed by (upstream) ``ci``, to ``depth`` hops.

    Walks level by level with indexed queries. CIs the user may not see are left out of the
    answer (the walk may pass through shared provider CIs).
    """
    depth = max(1, min(depth, MAX_DEPTH))
    graph = ImpactGraph(root_id=ci.pk, direction=direction, depth=depth)
    level: dict[int, int] = {ci.pk: 0}
    frontier = {ci.pk}
    raw_edges: list[tuple[int, int, int, str]] = []
    for hop in range(1, depth + 1):
        if not frontier:
            break
        step = _step(frontier, direction)
        raw_edges.extend(step)
        new = {to for _rid, _frm, to, _kind in step if to not in level}
        for node in new:
            level[node] = hop
        frontier = new
        if len(level) > MAX_NODES:
            graph.truncated = True
            break
    visible = scoped(ConfigurationItem, user)
    for chunk in _chunks(list(level)):
        rows = visible.filter(pk__in=chunk).values_list(
            "id", "name", "ci_type__code", "status", "criticality", "customer_id"
        )
        for pk, name, type_code, status, criticality, customer_id in rows:
            graph.nodes[pk] = {
                "id": pk,
                "name": name,
                "type": type_code,
                "status": status,
                "criticality": criticality,
                "customer": customer_id,
                "level": level[pk],
            }
    seen_edges: set[int] = set()
    for rid, frm, to, kind in raw_edges:
        if rid in seen_edges or frm not in graph.nodes or to not in graph.nodes:
            continue
        seen_edges.add(rid)
        graph.edges.append({"id": rid, "from": frm, "to": to, "type": kind})
    return graph


def history(ci: ConfigurationItem) -> QuerySet[CIChange]:
    return CIChange.objects.filter(ci=ci).select_related("actor").order_by("-at", "-id")


def ci_as_of(ci: ConfigurationItem, when: dt.datetime) -> dict[str, Any] | None:
    """The CI's fields, addresses, tags and relations as they were at ``when`` (None: absent)."""
    later = list(CIChange.objects.filter(ci=ci, at__gt=when).order_by("-at", "-id"))
    if any(change.kind == CIChange.Kind.CREATED for change in later):
        return None
    state: dict[str, Any] = {
        k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v)
        for k, v in ci.audit_snapshot().items()
    }
    state["cost"] = str(state["cost"]) if state.get("cost") is not None else None
    addresses = set(ci.addresses.values_list("address", flat=True))
    tags = set(ci.tags.values_list("name", flat=True))
    relations = {
        r["id"]: r
        for r in Relation.objects.filter(source=ci).values(
            "id", "relation_type", "source_id", "target_id"
        )
    }
    relations.update(
        {
            r["id"]: r
            for r in Relation.objects.filter(target=ci).values(
                "id", "relation_type", "source_id", "target_id"
            )
        }
    )
    for change in later:  # newest first: undo each change
        if change.kind == CIChange.Kind.UPDATED:
            for name, pair in change.changes.items():
                if name == "ip_addresses":
                    removed, added = pair
                    addresses = (addresses - set(added)) | set(removed)
                elif name == "tags":
                    removed, added = pair
                    tags = (tags - set(added)) | set(removed)
                else:
                    state[name] = pair[0]
        elif change.kind == CIChange.Kind.RELATION_ADDED:
            relations.pop(change.changes["relation"]["id"], None)
        elif change.kind == CIChange.Kind.RELATION_REMOVED:
            payload = change.changes["relation"]
            relations[payload["id"]] = {
                "id": payload["id"],
                "relation_type": payload["type"],
                "source_id": payload["source"],
                "target_id": payload["target"],
            }
    state["ip_addresses"] = sorted(addresses)
    state["tags"] = sorted(tags)
    state["relations"] = sorted(relations.values(), key=lambda r: r["id"])
    state["as_of"] = when.isoformat()
    return state


def expiring(queryset: QuerySet[ConfigurationItem], days: int) -> QuerySet[ConfigurationItem]:
    """CIs whose warranty or maintenance contract ends within ``days`` (and not yet ended)."""
    today = timezone.localdate()
    horizon = today + dt.timedelta(days=days)
    return queryset.filter(
        Q(warranty_end__gte=today, warranty_end__lte=horizon)
        | Q(maintenance_contract__ends_on__gte=today, maintenance_contract__ends_on__lte=horizon)
    )
