"""Service-desk KPIs, aggregated in SQL over ``Ticket``, ``SlaClock`` and ``Rating``.

Nothing here loads tickets into Python: every figure is a ``COUNT``/``AVG`` with a condition,
a percentile (PostgreSQL ``percentile_disc``; on SQLite a window ``ROW_NUMBER`` picking the
same row), grouped by the requested dimension. One call costs about ten queries whatever the
number of tickets.

Two populations, both limited by the filters (customer, service, team, assignee, priority,
type) and the caller's tenant scope (``Ticket.objects.visible_to(user)``):

* **received** — tickets *created* in the period: counts by status and type, response and
  on-site-arrival SLA, time to respond, resolution rate;
* **resolved** — tickets *resolved* in the period (their latest resolution; cancelled ones
  excluded): resolution SLA, "all targets met", time to resolve, first-contact resolution,
  reopen rate, satisfaction.

The backlog is the tickets open *now* (the period does not apply). The written definition of
every KPI is in ``DEFINITIONS`` and shown next to the figure in the UI and the API.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    Exists,
    F,
    FloatField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.functions import RowNumber, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from opsassure.catalog.models import Priority, SlaMetric
from opsassure.servicedesk.models import (
    OPEN_STATUSES,
    SlaClock,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketStatus,
)

GROUPS: dict[str, Promise] = {
    "priority": _("Priority"),
    "team": _("Team"),
    "assignee": _("Engineer"),
    "service": _("Service"),
    "customer": _("Customer"),
    "kind": _("Type"),
    "month": _("Month"),
}
# Dimensions only provider staff may filter or group by (teams are provider-internal).
STAFF_ONLY_DIMENSIONS = frozenset({"team", "assignee"})

RESOLUTION_RATE_VARIANTS: dict[str, Promise] = {
    "resolved": _("resolved ÷ received"),
    "within_sla": _("resolved within the resolution target ÷ received"),
}
DEFAULT_RESOLUTION_RATE = "resolved"


def default_resolution_rate() -> str:
    """The site's resolution-rate variant: setting ``SERVICEDESK_RESOLUTION_RATE``."""
    configured = getattr(settings, "SERVICEDESK_RESOLUTION_RATE", DEFAULT_RESOLUTION_RATE)
    return configured if configured in RESOLUTION_RATE_VARIANTS else DEFAULT_RESOLUTION_RATE


# (key, label, lower bound in days inclusive, upper bound in days exclusive or None)
BACKLOG_BUCKETS: list[tuple[str, Promise, int, int | None]] = [
    ("lt_1d", _("under 1 day"), 0, 1),
    ("1_3d", _("1–3 days"), 1, 3),
    ("3_7d", _("3–7 days"), 3, 7),
    ("7_30d", _("7–30 days"), 7, 30),
    ("gt_30d", _("over 30 days"), 30, None),
]

PERCENTILE = 0.9
SATISFIED_SCORES = (4, 5)

DEFINITIONS: dict[str, Promise] = {
    "received": _(
        "Tickets received: tickets created in the period (every status, cancelled included)."
    ),
    "by_status": _(
        "Tickets created in the period by their status now (new, assigned, in progress, "
        "pending, resolved, closed, reopened, cancelled)."
    ),
    "resolved": _(
        "Tickets resolved: tickets whose latest resolution falls in the period, cancelled "
        "tickets excluded (a reopened ticket counts when it is resolved again)."
    ),
    "sla_response": _(
        "Response SLA achievement = response targets met ÷ (met + breached), over the "
        "customer SLA clocks of tickets created in the period, cancelled tickets excluded. "
        "Met: the first response came before the deadline; breached: it came late or the "
        "deadline has passed without one; clocks still running in time are left out."
    ),
    "sla_arrival": _(
        "On-site arrival SLA achievement = arrival targets met ÷ (met + breached), same "
        "rules as the response SLA, for tickets that have an arrival target."
    ),
    "sla_resolution": _(
        "Resolution SLA achievement = tickets resolved within the resolution target ÷ "
        "tickets resolved in the period that had a resolution target, cancelled excluded. "
        "Pending time (waiting for the customer, a vendor or a change) does not count."
    ),
    "sla_all": _(
        "All targets met = tickets resolved in the period none of whose SLA targets "
        "(response, arrival, resolution) was breached ÷ tickets resolved in the period "
        "that had at least one SLA target."
    ),
    "time_to_respond": _(
        "Time to respond: from creation to the first public reply (or start of work) by the "
        "provider, for tickets created in the period that were responded to. Business time "
        "counts only the service hours of the SLA calendar and excludes pending time; wall "
        "time is calendar time. Mean and 90th percentile (the value 90 % of tickets are at "
        "or below: the ⌈0.9·n⌉-th smallest)."
    ),
    "time_to_resolve": _(
        "Mean time to resolve (MTTR) = Σ (resolved − created) ÷ tickets resolved in the "
        "period, in business time of the SLA calendar minus pending time, and in wall time; "
        "with the 90th percentile (the ⌈0.9·n⌉-th smallest)."
    ),
    "first_contact_resolution": _(
        "First-contact resolution rate = tickets resolved in the period that were never "
        "reopened, never escalated beyond the first support level and never handed from "
        "one team or engineer to another ÷ tickets resolved in the period. Dispatching a "
        "team's ticket to one of its engineers is not a handover."
    ),
    "reopen_rate": _(
        "Reopen rate = tickets resolved in the period that had been reopened at least once "
        "÷ tickets resolved in the period."
    ),
    "resolution_rate": _(
        "Resolution rate (事件解决率), tickets created in the period, cancelled excluded: "
        "%(variant)s."
    ),
    "satisfaction": _(
        "Satisfaction: ratings (1–5) given by requesters on tickets resolved in the period. "
        "Mean score, distribution, and share satisfied = ratings of 4 or 5 ÷ ratings."
    ),
    "backlog": _(
        "Backlog: tickets open now (new, assigned, in progress, pending, reopened) by age "
        "since creation; the period does not apply."
    ),
}


def definitions(resolution_rate: str = DEFAULT_RESOLUTION_RATE) -> dict[str, str]:
    """Every KPI's definition in the active language (the resolution-rate variant filled in)."""
    texts = {key: str(text) for key, text in DEFINITIONS.items()}
    texts["resolution_rate"] = texts["resolution_rate"] % {
        "variant": str(RESOLUTION_RATE_VARIANTS[resolution_rate])
    }
    return texts


@dataclass(frozen=True)
class KpiFilter:
    """What to measure: a period [start, end) in UTC, its zone, dimensions and a grouping."""

    start: dt.datetime
    end: dt.datetime
    zone: dt.tzinfo
    customer_id: int | None = None
    service_id: int | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    priority: int | None = None
    kind: str | None = None
    group_by: str | None = None
    resolution_rate: str = DEFAULT_RESOLUTION_RATE


def month_period(day: dt.date, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The calendar month containing ``day`` in ``zone``, as [start, end) instants."""
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return (
        dt.datetime.combine(first, dt.time(), tzinfo=zone),
        dt.datetime.combine(following, dt.time(), tzinfo=zone),
    )


def default_filter(zone_name: str | None = None, **dimensions: Any) -> KpiFilter:
    """This month in the given zone (default: the active one)."""
    zone = zoneinfo.ZoneInfo(zone_name) if zone_name else timezone.get_current_timezone()
    start, end = month_period(timezone.now().astimezone(zone).date(), zone)
    return KpiFilter(start=start, end=end, zone=zone, **dimensions)


# --- SQL building blocks -----------------------------------------------------------------------


class PercentileDisc(Aggregate):
    """PostgreSQL ``percentile_disc(f) WITHIN GROUP (ORDER BY x)``: the ⌈f·n⌉-th smallest."""

    function = "percentile_disc"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=f"{float(fraction)!r}", **extra)


def _count(condition: Q | None = None) -> Count:
    return Count("pk", filter=condition)


def _group_expression(group_by: str | None, date_field: str, zone: dt.tzinfo, prefix: str) -> Any:
    if group_by is None:
        return None
    if group_by == "month":
        return TruncMonth(f"{prefix}{date_field}", tzinfo=zone)
    column = {
        "priority": "priority",
        "team": "team_id",
        "assignee": "assignee_id",
        "service": "service_id",
        "customer": "customer_id",
        "kind": "kind",
    }[group_by]
    return F(f"{prefix}{column}")


def _group_key(value: Any, zone: dt.tzinfo) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(zone).strftime("%Y-%m")
    return value


def _grouped(
    queryset: QuerySet[Any], group: Any, zone: dt.tzinfo, **aggregates: Any
) -> dict[Any, dict[str, Any]]:
    """``{group key: {aggregate: value}}`` (key None without grouping), one query."""
    if group is None:
        return {None: queryset.order_by().aggregate(**aggregates)}
    rows = (
        queryset.order_by()
        .annotate(kpi_group=group)
        .values("kpi_group")
        .annotate(**aggregates)
        .order_by("kpi_group")
    )
    return {_group_key(row.pop("kpi_group"), zone): row for row in rows}


def _percentile(
    queryset: QuerySet[Any], column: str, group: Any, zone: dt.tzinfo
) -> dict[Any, float | None]:
    """The 90th percentile of ``column`` per group, in SQL on both engines."""
    queryset = queryset.order_by().filter(**{f"{column}__isnull": False})
    if connection.vendor == "postgresql":
        found = _grouped(queryset, group, zone, value=PercentileDisc(column, PERCENTILE))
        return {key: row["value"] for key, row in found.items()}
    # SQLite: number the values per group and keep the ⌈0.9·n⌉-th (integer arithmetic:
    # ⌈9n/10⌉ = (9n + 9) // 10), exactly the row percentile_disc picks.
    partition = [group] if group is not None else []
    if group is not None:
        queryset = queryset.annotate(kpi_group=group)
    numbered = queryset.annotate(
        kpi_rank=Window(RowNumber(), partition_by=partition, order_by=F(column).asc()),
        kpi_n=Window(Count("pk"), partition_by=partition),
    ).filter(kpi_rank=(F("kpi_n") * 9 + 9) / 10)
    if group is None:
        value = numbered.values_list(column, flat=True).first()
        return {None: None if value is None else float(value)}
    return {
        _group_key(key, zone): float(value)
        for key, value in numbered.values_list("kpi_group", column)
    }


# --- the KPI set -------------------------------------------------------------------------------


def scoped_tickets(user: Any, flt: KpiFilter) -> QuerySet[Ticket]:
    """The caller's tickets narrowed by the filter's dimensions (not by the period)."""
    tickets = Ticket.objects.visible_to(user)
    conditions = {
        "customer_id": flt.customer_id,
        "service_id": flt.service_id,
        "team_id": flt.team_id,
        "assignee_id": flt.assignee_id,
        "priority": flt.priority,
        "kind": flt.kind,
    }
    return tickets.filter(**{name: value for name, value in conditions.items() if value})


def _ratio(part: int | None, whole: int | None) -> float | None:
    if not whole:
        return None
    return round(100.0 * (part or 0) / whole, 2)


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def _received(tickets: QuerySet[Ticket], flt: KpiFilter) -> dict[Any, dict[str, Any]]:
    created = tickets.filter(created_at__gte=flt.start, created_at__lt=flt.end)
    not_cancelled = ~Q(status=TicketStatus.CANCELLED)
    resolution_breached = SlaClock.objects.filter(
        ticket=OuterRef("pk"), team__isnull=True, metric=SlaMetric.RESOLUTION, breached=True
    )
    solved = not_cancelled & Q(resolved_at__isnull=False)
    if flt.resolution_rate == "within_sla":
        solved &= ~Q(Exists(resolution_breached))
    aggregates: dict[str, Any] = {
        "received": _count(),
        "rr_of": _count(not_cancelled),
        "rr_solved": _count(solved),
        "respond_n": Count("response_business_seconds", filter=not_cancelled),
        "respond_sum": Sum("response_business_seconds", filter=not_cancelled),
        "respond_wall_n": Count("response_wall_seconds", filter=not_cancelled),
        "respond_wall_sum": Sum("response_wall_seconds", filter=not_cancelled),
    }
    for status in TicketStatus.values:
        aggregates[f"status_{status}"] = _count(Q(status=status))
    for kind in TicketKind.values:
        aggregates[f"kind_{kind}"] = _count(Q(kind=kind))
    group = _group_expression(flt.group_by, "created_at", flt.zone, "")
    found = _grouped(created, group, flt.zone, **aggregates)
    _merge(found, _received_percentiles(tickets, flt, group))
    return found


def _merge(found: dict[Any, dict[str, Any]], extra: dict[Any, dict[str, Any]]) -> None:
    for key, values in extra.items():
        found.setdefault(key, {}).update(values)


def _received_percentiles(
    tickets: QuerySet[Ticket], flt: KpiFilter, group: Any
) -> dict[Any, dict[str, Any]]:
    """90th percentiles of the response times of the tickets received in the period."""
    received = tickets.filter(created_at__gte=flt.start, created_at__lt=flt.end).exclude(
        status=TicketStatus.CANCELLED
    )
    found: dict[Any, dict[str, Any]] = {}
    for column, name in (
        ("response_business_seconds", "respond_p90"),
        ("response_wall_seconds", "respond_wall_p90"),
    ):
        for key, value in _percentile(received, column, group, flt.zone).items():
            found.setdefault(key, {})[name] = value
    return found


def _resolved_percentiles(
    tickets: QuerySet[Ticket], flt: KpiFilter, group: Any
) -> dict[Any, dict[str, Any]]:
    """90th percentiles of the resolution times of the tickets resolved in the period."""
    resolved = tickets.filter(resolved_at__gte=flt.start, resolved_at__lt=flt.end).exclude(
        status=TicketStatus.CANCELLED
    )
    found: dict[Any, dict[str, Any]] = {}
    for column, name in (
        ("resolution_business_seconds", "resolve_p90"),
        ("resolution_wall_seconds", "resolve_wall_p90"),
    ):
        for key, value in _percentile(resolved, column, group, flt.zone).items():
            found.setdefault(key, {})[name] = value
    return found


def _combined(groups: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    """The overall row from the per-group rows: every ticket is in exactly one group (a NULL
    group value is its own group), so counts and sums add up and ``oldest`` is the minimum.
    Percentiles do not combine; the caller computes the overall ones."""
    total: dict[str, Any] = {}
    for row in groups.values():
        for name, value in row.items():
            if value is None or name.endswith("_p90"):
                continue
            if name == "oldest":
                total[name] = min(total.get(name, value), value)
            else:
                total[name] = total.get(name, 0) + value
    return total


def _combined_sla(groups: dict[Any, dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    total: dict[str, dict[str, int]] = {}
    for metrics in groups.values():
        for metric, counts in metrics.items():
            into = total.setdefault(metric, {"met": 0, "breached": 0, "running": 0})
            for name, value in counts.items():
                into[name] += value
    return total


def _handed_over(side: str) -> Q:
    """An assignment event that took the ticket away from a team (or engineer) it had.

    ``data[side]`` is ``[before, after]`` (services.assign). Dispatching a team's ticket to
    one of its engineers (team unchanged, no engineer before) is not a handover.
    """
    before = f"data__{side}__0"
    return (
        Q(**{f"{before}__isnull": False})
        & ~Q(**{before: None})
        & ~Q(**{before: F(f"data__{side}__1")})
    )


def _resolved(tickets: QuerySet[Ticket], flt: KpiFilter) -> dict[Any, dict[str, Any]]:
    resolved = tickets.filter(resolved_at__gte=flt.start, resolved_at__lt=flt.end).exclude(
        status=TicketStatus.CANCELLED
    )
    sla_clocks = SlaClock.objects.filter(ticket=OuterRef("pk"), team__isnull=True)
    reassigned = TicketEvent.objects.filter(
        Q(_handed_over("team")) | Q(_handed_over("assignee")),
        ticket=OuterRef("pk"),
        kind=TicketEvent.Kind.ASSIGNMENT,
    )
    aggregates: dict[str, Any] = {
        "resolved": _count(),
        "resolve_n": Count("resolution_business_seconds"),
        "resolve_sum": Sum("resolution_business_seconds"),
        "resolve_wall_n": Count("resolution_wall_seconds"),
        "resolve_wall_sum": Sum("resolution_wall_seconds"),
        "fcr": _count(Q(reopen_count=0, support_level=1) & ~Q(Exists(reassigned))),
        "reopened": _count(Q(reopen_count__gt=0)),
        "all_targets_of": _count(Q(Exists(sla_clocks))),
        "all_targets_met": _count(
            Q(Exists(sla_clocks)) & ~Q(Exists(sla_clocks.filter(breached=True)))
        ),
        "rated": Count("rating__score"),
        "score_sum": Sum("rating__score"),
    }
    for score in range(1, 6):
        aggregates[f"score_{score}"] = _count(Q(rating__score=score))
    group = _group_expression(flt.group_by, "resolved_at", flt.zone, "")
    found = _grouped(resolved, group, flt.zone, **aggregates)
    _merge(found, _resolved_percentiles(tickets, flt, group))
    return found


def _sla(user: Any, flt: KpiFilter) -> dict[Any, dict[str, dict[str, int]]]:
    """Met / breached / running per SLA metric and group, over the customer SLA clocks.

    Response and arrival count for tickets created in the period, resolution for tickets
    resolved in it: two queries, each driven by the tickets' period index (customer and
    created or resolved instant), never by every clock of the customer's history."""
    tickets = scoped_tickets(user, flt).exclude(status=TicketStatus.CANCELLED)
    found: dict[Any, dict[str, dict[str, int]]] = {}
    for metrics, date_field in (
        ([SlaMetric.RESPONSE, SlaMetric.ARRIVAL], "created_at"),
        ([SlaMetric.RESOLUTION], "resolved_at"),
    ):
        in_period = tickets.filter(
            **{f"{date_field}__gte": flt.start, f"{date_field}__lt": flt.end}
        ).values("pk")
        clocks = (
            SlaClock.objects.visible_to(user)
            .filter(team__isnull=True, metric__in=metrics, ticket__in=in_period)
            .order_by()
        )
        # Received metrics by month of creation, resolution by month of resolution.
        group = _group_expression(flt.group_by, date_field, flt.zone, "ticket__")
        if group is not None:
            clocks = clocks.annotate(kpi_group=group)
        stopped = Q(state=SlaClock.State.STOPPED)
        rows = clocks.values(*(["kpi_group"] if group is not None else []), "metric").annotate(
            n_met=_count(Q(breached=False) & stopped),
            n_breached=_count(Q(breached=True)),
            n_running=_count(Q(breached=False) & ~stopped),
        )
        for row in rows:
            key = None if group is None else _group_key(row["kpi_group"], flt.zone)
            found.setdefault(key, {})[row["metric"]] = {
                "met": row["n_met"],
                "breached": row["n_breached"],
                "running": row["n_running"],
            }
    return found


def _backlog(tickets: QuerySet[Ticket], flt: KpiFilter, now: dt.datetime) -> dict[Any, Any]:
    open_tickets = tickets.filter(status__in=OPEN_STATUSES)
    aggregates: dict[str, Any] = {"open": _count(), "oldest": Min("created_at")}
    for key, _label, low, high in BACKLOG_BUCKETS:
        condition = Q(created_at__lte=now - dt.timedelta(days=low))
        if high is not None:
            condition &= Q(created_at__gt=now - dt.timedelta(days=high))
        aggregates[f"age_{key}"] = _count(condition)
    group = _group_expression(flt.group_by, "created_at", flt.zone, "")
    return _grouped(open_tickets, group, flt.zone, **aggregates)


def _sla_figures(counts: dict[str, int] | None) -> dict[str, Any]:
    counts = counts or {"met": 0, "breached": 0, "running": 0}
    return {**counts, "achievement": _ratio(counts["met"], counts["met"] + counts["breached"])}


def _time_figures(row: dict[str, Any], name: str) -> dict[str, Any]:
    count = row.get(f"{name}_n") or 0
    total = row.get(f"{name}_sum")
    return {
        "count": count,
        "mean_seconds": _seconds(total / count) if count and total is not None else None,
        "p90_seconds": _seconds(row.get(f"{name}_p90")),
    }


def _assemble(
    received: dict[str, Any],
    resolved: dict[str, Any],
    sla: dict[str, dict[str, int]],
    backlog: dict[str, Any],
    now: dt.datetime,
) -> dict[str, Any]:
    rated = resolved.get("rated") or 0
    distribution = {str(score): resolved.get(f"score_{score}") or 0 for score in range(1, 6)}
    satisfied = sum(distribution[str(score)] for score in SATISFIED_SCORES)
    resolved_count = resolved.get("resolved") or 0
    oldest = backlog.get("oldest")
    return {
        "received": received.get("received") or 0,
        "by_status": {s: received.get(f"status_{s}") or 0 for s in TicketStatus.values},
        "by_kind": {k: received.get(f"kind_{k}") or 0 for k in TicketKind.values},
        "resolved": resolved_count,
        "sla": {
            "response": _sla_figures(sla.get(SlaMetric.RESPONSE)),
            "arrival": _sla_figures(sla.get(SlaMetric.ARRIVAL)),
            "resolution": _sla_figures(sla.get(SlaMetric.RESOLUTION)),
            "all_targets": {
                "met": resolved.get("all_targets_met") or 0,
                "total": resolved.get("all_targets_of") or 0,
                "achievement": _ratio(
                    resolved.get("all_targets_met"), resolved.get("all_targets_of")
                ),
            },
        },
        "time_to_respond": {
            "business": _time_figures(received, "respond"),
            "wall": _time_figures(received, "respond_wall"),
        },
        "time_to_resolve": {
            "business": _time_figures(resolved, "resolve"),
            "wall": _time_figures(resolved, "resolve_wall"),
        },
        "first_contact_resolution": {
            "count": resolved.get("fcr") or 0,
            "of": resolved_count,
            "rate": _ratio(resolved.get("fcr"), resolved_count),
        },
        "reopen": {
            "count": resolved.get("reopened") or 0,
            "of": resolved_count,
            "rate": _ratio(resolved.get("reopened"), resolved_count),
        },
        "resolution_rate": {
            "resolved": received.get("rr_solved") or 0,
            "of": received.get("rr_of") or 0,
            "rate": _ratio(received.get("rr_solved"), received.get("rr_of")),
        },
        "satisfaction": {
            "count": rated,
            "mean": None if not rated else round(float(resolved["score_sum"]) / rated, 2),
            "distribution": distribution,
            "satisfied_share": _ratio(satisfied, rated),
        },
        "backlog": {
            "open": backlog.get("open") or 0,
            "oldest_age_seconds": None if oldest is None else int((now - oldest).total_seconds()),
            "by_age": {key: backlog.get(f"age_{key}") or 0 for key, *_rest in BACKLOG_BUCKETS},
        },
    }


def compute_kpis(user: Any, flt: KpiFilter, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The KPI set for ``user``'s tickets under ``flt``: overall and, if asked, per group.

    Returns ``{"overall": {...}, "groups": [{"key", "label", ...}]}`` (groups empty without
    ``group_by``); figures as documented in ``DEFINITIONS``. Durations are in seconds, rates
    in percent (None when there is nothing to divide by).
    """
    now = now or timezone.now()
    tickets = scoped_tickets(user, flt)
    overall_filter = KpiFilter(**{**flt.__dict__, "group_by": None})
    if not flt.group_by:
        overall = _assemble(
            _received(tickets, overall_filter).get(None, {}),
            _resolved(tickets, overall_filter).get(None, {}),
            _sla(user, overall_filter).get(None, {}),
            _backlog(tickets, overall_filter, now).get(None, {}),
            now,
        )
        return {"overall": overall, "groups": []}
    # Grouped: the overall figures are the sums of the groups' (one pass over the tickets,
    # not two); only the percentiles need their own overall queries.
    received = _received(tickets, flt)
    resolved = _resolved(tickets, flt)
    sla = _sla(user, flt)
    if flt.group_by == "month":
        backlog: dict[Any, Any] = {}
        overall_backlog = _backlog(tickets, overall_filter, now).get(None, {})
    else:
        backlog = _backlog(tickets, flt, now)
        overall_backlog = _combined(backlog)
    overall_received = _combined(received)
    overall_received.update(_received_percentiles(tickets, overall_filter, None).get(None, {}))
    overall_resolved = _combined(resolved)
    overall_resolved.update(_resolved_percentiles(tickets, overall_filter, None).get(None, {}))
    overall = _assemble(
        overall_received, overall_resolved, _combined_sla(sla), overall_backlog, now
    )
    groups: list[dict[str, Any]] = []
    keys = [k for k in {*received, *resolved, *sla, *backlog} if k is not None]
    labels = group_labels(flt.group_by, keys)
    for key in sorted(keys, key=lambda k: (str(type(k)), k)):
        figures = _assemble(
            received.get(key, {}),
            resolved.get(key, {}),
            sla.get(key, {}),
            backlog.get(key, {}),
            now,
        )
        groups.append({"key": key, "label": labels.get(key, str(key)), **figures})
    return {"overall": overall, "groups": groups}


def group_labels(group_by: str, keys: Iterable[Any]) -> dict[Any, str]:
    """Display names of group keys (ids → names, codes → translated labels)."""
    from opsassure.catalog.models import Service
    from opsassure.core.models import Customer, Team, User

    keys = list(keys)
    if group_by == "priority":
        return {key: str(Priority(key).label) for key in keys if key in Priority.values}
    if group_by == "kind":
        return {key: str(TicketKind(key).label) for key in keys if key in TicketKind.values}
    if group_by == "month":
        return {key: key for key in keys}
    model: Any = {"team": Team, "assignee": User, "service": Service, "customer": Customer}[
        group_by
    ]
    # Ids come from tickets the caller may see; only their names are read here.
    return {row.pk: str(row) for row in model._default_manager.filter(pk__in=keys)}


def weekly_received(user: Any, flt: KpiFilter) -> list[dict[str, Any]]:
    """Tickets created per week (Monday, in the filter's zone) and type, oldest first."""
    rows = (
        scoped_tickets(user, flt)
        .filter(created_at__gte=flt.start, created_at__lt=flt.end)
        .order_by()
        .annotate(week=TruncWeek("created_at", tzinfo=flt.zone))
        .values("week")
        .annotate(**{kind: _count(Q(kind=kind)) for kind in TicketKind.values})
        .order_by("week")
    )
    return [
        {
            "week": row["week"].astimezone(flt.zone).date().isoformat(),
            **{kind: row[kind] for kind in TicketKind.values},
        }
        for row in rows
    ]
