"""The service-desk KPI dashboard: tiles and charts over the caller's tickets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from opsassure.catalog.models import Priority
from opsassure.servicedesk import kpi
from opsassure.servicedesk.forms_kpi import KpiFilterForm
from opsassure.servicedesk.models import TicketKind

TREND_MONTHS = 6
INTAKE_WEEKS = 13


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{number_format(value, 1)} %"


def _hours(seconds: float | None) -> str:
    return (
        "—" if seconds is None else _("%(hours)s h") % {"hours": number_format(seconds / 3600, 1)}
    )


def _hours_value(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _months_back(start: dt.datetime, months: int, zone: dt.tzinfo) -> dt.datetime:
    local = start.astimezone(zone).date().replace(day=1)
    for _step in range(months):
        local = (local - dt.timedelta(days=1)).replace(day=1)
    return dt.datetime.combine(local, dt.time(), tzinfo=zone)


def _tiles(figures: dict[str, Any], texts: dict[str, str]) -> list[dict[str, str]]:
    sla = figures["sla"]
    satisfaction = figures["satisfaction"]
    resolve = figures["time_to_resolve"]
    respond = figures["time_to_respond"]
    return [
        {
            "key": "received",
            "label": _("Tickets received"),
            "value": str(figures["received"]),
            "detail": _("%(resolved)s resolved in the period") % {"resolved": figures["resolved"]},
            "definition": texts["received"],
        },
        {
            "key": "sla_response",
            "label": _("Response SLA"),
            "value": _percent(sla["response"]["achievement"]),
            "detail": _("%(met)s met, %(breached)s breached") % sla["response"],
            "definition": texts["sla_response"],
        },
        {
            "key": "sla_resolution",
            "label": _("Resolution SLA"),
            "value": _percent(sla["resolution"]["achievement"]),
            "detail": _("%(met)s met, %(breached)s breached") % sla["resolution"],
            "definition": texts["sla_resolution"],
        },
        {
            "key": "sla_all",
            "label": _("All targets met"),
            "value": _percent(sla["all_targets"]["achievement"]),
            "detail": _("%(met)s of %(total)s resolved tickets") % sla["all_targets"],
            "definition": texts["sla_all"],
        },
        {
            "key": "time_to_respond",
            "label": _("Mean time to respond"),
            "value": _hours(respond["business"]["mean_seconds"]),
            "detail": _("p90 %(p90)s · wall %(wall)s")
            % {
                "p90": _hours(respond["business"]["p90_seconds"]),
                "wall": _hours(respond["wall"]["mean_seconds"]),
            },
            "definition": texts["time_to_respond"],
        },
        {
            "key": "time_to_resolve",
            "label": _("Mean time to resolve (MTTR)"),
            "value": _hours(resolve["business"]["mean_seconds"]),
            "detail": _("p90 %(p90)s · wall %(wall)s")
            % {
                "p90": _hours(resolve["business"]["p90_seconds"]),
                "wall": _hours(resolve["wall"]["mean_seconds"]),
            },
            "definition": texts["time_to_resolve"],
        },
        {
            "key": "resolution_rate",
            "label": _("Resolution rate"),
            "value": _percent(figures["resolution_rate"]["rate"]),
            "detail": _("%(resolved)s of %(of)s") % figures["resolution_rate"],
            "definition": texts["resolution_rate"],
        },
        {
            "key": "first_contact_resolution",
            "label": _("First-contact resolution"),
            "value": _percent(figures["first_contact_resolution"]["rate"]),
            "detail": _("%(count)s of %(of)s") % figures["first_contact_resolution"],
            "definition": texts["first_contact_resolution"],
        },
        {
            "key": "reopen_rate",
            "label": _("Reopen rate"),
            "value": _percent(figures["reopen"]["rate"]),
            "detail": _("%(count)s of %(of)s") % figures["reopen"],
            "definition": texts["reopen_rate"],
        },
        {
            "key": "satisfaction",
            "label": _("Satisfaction"),
            "value": "—"
            if satisfaction["mean"] is None
            else f"{number_format(satisfaction['mean'], 2)} / 5",
            "detail": _("%(share)s satisfied · %(count)s ratings")
            % {"share": _percent(satisfaction["satisfied_share"]), "count": satisfaction["count"]},
            "definition": texts["satisfaction"],
        },
        {
            "key": "backlog",
            "label": _("Open backlog"),
            "value": str(figures["backlog"]["open"]),
            "detail": _("oldest %(age)s")
            % {"age": _hours(figures["backlog"]["oldest_age_seconds"])},
            "definition": texts["backlog"],
        },
    ]


def _charts(user: Any, flt: kpi.KpiFilter, by_priority: dict[str, Any]) -> dict[str, Any]:
    """Series for the ECharts charts (plain lists; rendered by servicedesk/kpi_dashboard.js)."""
    overall = by_priority["overall"]
    intake_start = min(flt.start, flt.end - dt.timedelta(weeks=INTAKE_WEEKS))
    weeks = kpi.weekly_received(
        user, kpi.KpiFilter(**{**flt.__dict__, "start": intake_start, "group_by": None})
    )
    trend_filter = kpi.KpiFilter(
        **{
            **flt.__dict__,
            "start": min(flt.start, _months_back(flt.end, TREND_MONTHS, flt.zone)),
            "group_by": "month",
        }
    )
    trend = kpi.compute_kpis(user, trend_filter)["groups"]
    priorities = [g for g in by_priority["groups"] if g["key"] in Priority.values]
    return {
        "weekly": {
            "weeks": [row["week"] for row in weeks],
            "series": [
                {"name": str(label), "data": [row[kind] for row in weeks]}
                for kind, label in TicketKind.choices
            ],
        },
        "sla_by_priority": {
            "priorities": [g["label"] for g in priorities],
            "series": [
                {
                    "name": _("Response"),
                    "data": [g["sla"]["response"]["achievement"] for g in priorities],
                },
                {
                    "name": _("Resolution"),
                    "data": [g["sla"]["resolution"]["achievement"] for g in priorities],
                },
            ],
        },
        "mttr_trend": {
            "months": [g["key"] for g in trend],
            "series": [
                {
                    "name": _("Mean, business hours"),
                    "data": [
                        _hours_value(g["time_to_resolve"]["business"]["mean_seconds"])
                        for g in trend
                    ],
                },
                {
                    "name": _("p90, business hours"),
                    "data": [
                        _hours_value(g["time_to_resolve"]["business"]["p90_seconds"]) for g in trend
                    ],
                },
                {
                    "name": _("Mean, wall-clock hours"),
                    "data": [
                        _hours_value(g["time_to_resolve"]["wall"]["mean_seconds"]) for g in trend
                    ],
                },
            ],
        },
        "satisfaction": {
            "scores": ["1", "2", "3", "4", "5"],
            "data": [overall["satisfaction"]["distribution"][s] for s in "12345"],
        },
        "backlog": {
            "buckets": [str(label) for _key, label, *_rest in kpi.BACKLOG_BUCKETS],
            "data": [overall["backlog"]["by_age"][key] for key, *_rest in kpi.BACKLOG_BUCKETS],
        },
    }


@login_required
@permission_required("servicedesk.view_ticket", raise_exception=True)
def kpi_dashboard(request: HttpRequest) -> HttpResponse:
    """KPI tiles for the chosen period (default: this month) and the trend charts."""
    user = request.user
    form = KpiFilterForm(request.GET or None, user=user)
    if form.is_bound and form.is_valid():
        flt = form.kpi_filter()
    else:
        if not form.is_bound:
            form = KpiFilterForm({}, user=user)
            form.is_valid()
        flt = kpi.default_filter(str(form.zone), resolution_rate=kpi.default_resolution_rate())
    flt = kpi.KpiFilter(**{**flt.__dict__, "group_by": "priority"})
    by_priority = kpi.compute_kpis(user, flt)
    texts = kpi.definitions(flt.resolution_rate)
    last_day = (flt.end - dt.timedelta(seconds=1)).astimezone(flt.zone).date()
    context = {
        "form": form,
        "period_start": flt.start.astimezone(flt.zone).date(),
        "period_end": last_day,
        "tiles": _tiles(by_priority["overall"], texts),
        "priorities": by_priority["groups"],
        "charts": _charts(user, flt, by_priority),
        "definitions": texts,
    }
    return render(request, "servicedesk/kpi_dashboard.html", context)
