"""KPI figures against a hand-computed ticket set (see kpi_data.py for the table)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsassure.servicedesk import kpi
from opsassure.servicedesk.models import Ticket
from tests.conftest import World
from tests.servicedesk.kpi_data import NOW, KpiWorld, at, build, make_ticket

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def data(world: World) -> KpiWorld:
    return build(world)


def november(**dimensions: Any) -> kpi.KpiFilter:
    start, end = kpi.month_period(dt.date(2026, 11, 1), SHANGHAI)
    return kpi.KpiFilter(start=start, end=end, zone=SHANGHAI, **dimensions)


def overall(user: Any, **dimensions: Any) -> dict[str, Any]:
    result = kpi.compute_kpis(user, november(**dimensions), now=NOW)
    assert result["groups"] == []
    figures: dict[str, Any] = result["overall"]
    return figures


def test_month_period_is_the_local_calendar_month() -> None:
    start, end = kpi.month_period(dt.date(2026, 11, 17), SHANGHAI)
    assert start == dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC)
    start, end = kpi.month_period(dt.date(2026, 12, 31), SHANGHAI)
    assert (start.month, end.year, end.month) == (12, 2027, 1)


def test_counts_by_status_and_type_use_the_local_month(data: KpiWorld) -> None:
    figures = overall(data.world.engineer_a)
    assert figures["received"] == 8  # T9 (Nov 1, 04:00 local) in, T10 (Oct 31, 23:30) out
    assert figures["by_status"] == {
        "new": 2,
        "assigned": 0,
        "in_progress": 1,
        "pending": 1,
        "resolved": 1,
        "closed": 2,
        "reopened": 0,
        "cancelled": 1,
    }
    assert figures["by_kind"] == {"incident": 7, "request": 1}
    assert figures["resolved"] == 4  # T1, T2, T3 and T7 (received in October)


def test_sla_achievement_per_target_and_all_targets(data: KpiWorld) -> None:
    sla = overall(data.world.engineer_a)["sla"]
    # T1, T3, T4 met; T2 breached, T5 breached while still running; T6 cancelled: excluded.
    assert sla["response"] == {"met": 3, "breached": 2, "running": 0, "achievement": 60.0}
    assert sla["arrival"] == {"met": 1, "breached": 0, "running": 0, "achievement": 100.0}
    # Resolved in November: T1, T3, T7 met, T2 breached; T1's breached OLA clock is not the SLA.
    assert sla["resolution"] == {"met": 3, "breached": 1, "running": 0, "achievement": 75.0}
    assert sla["all_targets"] == {"met": 3, "total": 4, "achievement": 75.0}


def test_times_mean_and_p90_business_and_wall(data: KpiWorld) -> None:
    figures = overall(data.world.engineer_a)
    # Responded, received in November, not cancelled: T1 600, T2 1800, T3 300, T4 1200.
    assert figures["time_to_respond"] == {
        "business": {"count": 4, "mean_seconds": 975.0, "p90_seconds": 1800.0},
        "wall": {"count": 4, "mean_seconds": 2000.0, "p90_seconds": 5000.0},
    }
    # Resolved in November: T1 7200, T2 18000, T3 3600, T7 36000 (wall 86400 … 1e6).
    assert figures["time_to_resolve"] == {
        "business": {"count": 4, "mean_seconds": 16200.0, "p90_seconds": 36000.0},
        "wall": {"count": 4, "mean_seconds": 323800.0, "p90_seconds": 1_000_000.0},
    }


def test_first_contact_reopen_and_resolution_rates(data: KpiWorld) -> None:
    figures = overall(data.world.engineer_a)
    # Only T1: T2 reopened, T3 escalated to level 2, T7 handed to another team.
    assert figures["first_contact_resolution"] == {"count": 1, "of": 4, "rate": 25.0}
    assert figures["reopen"] == {"count": 1, "of": 4, "rate": 25.0}
    # Received, not cancelled: 7; resolved since: T1, T2, T3.
    assert figures["resolution_rate"] == {"resolved": 3, "of": 7, "rate": 42.86}
    within = overall(data.world.engineer_a, resolution_rate="within_sla")
    assert within["resolution_rate"] == {"resolved": 2, "of": 7, "rate": 28.57}  # T2 late


def test_satisfaction_and_backlog(data: KpiWorld) -> None:
    figures = overall(data.world.engineer_a)
    assert figures["satisfaction"] == {
        "count": 4,
        "mean": 3.5,
        "distribution": {"1": 0, "2": 1, "3": 1, "4": 1, "5": 1},
        "satisfied_share": 50.0,
    }
    # Open now: T4 (8.9 d), T5 (6 d), T9 (20.2 d), T11 (4 h).
    assert figures["backlog"] == {
        "open": 4,
        "oldest_age_seconds": 20 * 86400 + 4 * 3600,
        "by_age": {"lt_1d": 1, "1_3d": 0, "3_7d": 1, "7_30d": 2, "gt_30d": 0},
    }


def test_grouped_by_priority(data: KpiWorld) -> None:
    result = kpi.compute_kpis(data.world.engineer_a, november(group_by="priority"), now=NOW)
    groups = {group["key"]: group for group in result["groups"]}
    assert sorted(groups) == [1, 2, 3, 4]
    assert groups[1]["label"] == "P1 critical"
    assert groups[2]["received"] == 2
    assert groups[2]["sla"]["response"]["achievement"] == 50.0
    assert groups[2]["sla"]["resolution"]["achievement"] == 100.0
    assert groups[2]["backlog"]["open"] == 1
    assert groups[3]["received"] == 4
    assert groups[3]["sla"]["response"] == {
        "met": 2,
        "breached": 0,
        "running": 0,
        "achievement": 100.0,
    }
    assert groups[1]["sla"]["resolution"]["achievement"] == 0.0
    assert groups[4]["received"] == 1
    assert groups[4]["resolved"] == 1
    assert groups[4]["time_to_resolve"]["business"]["p90_seconds"] == 36000.0
    # The groups add up to the overall figures.
    assert sum(g["received"] for g in groups.values()) == result["overall"]["received"]
    assert sum(g["resolved"] for g in groups.values()) == result["overall"]["resolved"]


@pytest.mark.parametrize("group_by", ["priority", "team", "assignee", "kind", "customer", "month"])
def test_grouped_overall_equals_the_ungrouped_overall(data: KpiWorld, group_by: str) -> None:
    # With grouping, the overall figures are summed from the groups (one pass, not two);
    # they must be exactly the figures computed without grouping.
    plain = kpi.compute_kpis(data.world.manager, november(), now=NOW)
    grouped = kpi.compute_kpis(data.world.manager, november(group_by=group_by), now=NOW)
    assert plain["overall"]["received"] == 9
    assert grouped["overall"] == plain["overall"]


def test_grouped_by_month_uses_creation_and_resolution_months(data: KpiWorld) -> None:
    start, _end = kpi.month_period(dt.date(2026, 10, 1), SHANGHAI)
    _start, end = kpi.month_period(dt.date(2026, 11, 1), SHANGHAI)
    flt = kpi.KpiFilter(start=start, end=end, zone=SHANGHAI, group_by="month")
    result = kpi.compute_kpis(data.world.engineer_a, flt, now=NOW)
    groups = {group["key"]: group for group in result["groups"]}
    assert sorted(groups) == ["2026-10", "2026-11"]
    assert groups["2026-10"]["received"] == 2  # T7, T10
    assert groups["2026-10"]["resolved"] == 1  # T10 (23:45 local on Oct 31)
    assert groups["2026-11"]["received"] == 8
    assert groups["2026-11"]["resolved"] == 4
    assert groups["2026-10"]["sla"]["response"]["met"] == 1  # T7's response, received Oct


def test_filters_narrow_every_figure(data: KpiWorld) -> None:
    world = data.world
    assert overall(world.manager)["received"] == 9  # all customers: B's ticket too
    by_team = overall(world.manager, team_id=world.team_a.pk)
    assert by_team["received"] == 3  # T1, T2, T4 (T7 received in October)
    assert by_team["resolved"] == 3  # T1, T2, T7
    by_engineer = overall(world.manager, assignee_id=world.engineer_a.pk)
    assert (by_engineer["received"], by_engineer["resolved"]) == (2, 1)
    requests = overall(world.manager, kind="request")
    assert requests["by_kind"] == {"incident": 0, "request": 1}
    assert requests["satisfaction"]["mean"] == 4.0
    p1 = overall(world.engineer_a, priority=1)
    assert p1["sla"]["response"]["breached"] == 1
    assert overall(world.manager, customer_id=world.customer_b.pk)["received"] == 1


def test_tenant_scope(data: KpiWorld) -> None:
    world = data.world
    mine = overall(world.customer_a_admin)
    assert mine["received"] == 8
    assert mine["satisfaction"]["distribution"]["1"] == 0  # B's rating of 1 is not in it
    assert overall(world.engineer_a)["resolved"] == 4
    # A customer user (not admin) counts only the tickets they may see: their own T3.
    own = overall(world.customer_a_user)
    assert (own["received"], own["resolved"], own["satisfaction"]["mean"]) == (1, 1, 4.0)
    theirs = overall(world.customer_b_user)
    assert (theirs["received"], theirs["resolved"]) == (1, 1)
    assert theirs["sla"]["response"]["breached"] == 1
    # A customer-A user asking for customer B's figures gets nothing of B.
    assert overall(world.customer_a_admin, customer_id=world.customer_b.pk)["received"] == 0
    nothing = overall(world.outsider)
    assert (nothing["received"], nothing["resolved"], nothing["backlog"]["open"]) == (0, 0, 0)
    assert nothing["sla"]["response"]["achievement"] is None
    assert nothing["satisfaction"]["mean"] is None


def test_p90_is_the_nearest_rank_on_both_engines(world: World) -> None:
    for value in range(1, 12):  # 100 … 1100 at P2; the ⌈0.9·11⌉ = 10th smallest is 1000
        make_ticket(
            world.customer_a,
            at(11, 3),
            priority=2,
            status="closed",
            resolved_at=at(11, 4),
            resolution_business_seconds=value * 100,
        )
    for value in (30, 10, 20):  # at P1: ⌈2.7⌉ = 3rd smallest
        make_ticket(
            world.customer_a,
            at(11, 3),
            priority=1,
            status="closed",
            resolved_at=at(11, 4),
            resolution_business_seconds=value,
        )
    assert overall(world.manager, priority=2)["time_to_resolve"]["business"]["p90_seconds"] == (
        1000.0
    )
    result = kpi.compute_kpis(world.manager, november(group_by="priority"), now=NOW)
    p90 = {g["key"]: g["time_to_resolve"]["business"]["p90_seconds"] for g in result["groups"]}
    assert p90 == {1: 30.0, 2: 1000.0}
    assert result["overall"]["time_to_resolve"]["business"]["p90_seconds"] == 1000.0  # 13th of 14


def test_query_count_does_not_grow_with_tickets(data: KpiWorld) -> None:
    flt = november(group_by="priority")
    kpi.compute_kpis(data.world.manager, flt, now=NOW)  # permissions and scope cached
    with CaptureQueriesContext(connection) as first:
        kpi.compute_kpis(data.world.manager, flt, now=NOW)
    for _ in range(20):
        make_ticket(data.world.customer_a, at(11, 8), priority=3, status="new")
    Ticket.objects.filter(status="new").update(team=data.world.team_a)
    with CaptureQueriesContext(connection) as second:
        kpi.compute_kpis(data.world.manager, flt, now=NOW)
    assert len(second.captured_queries) == len(first.captured_queries)
    assert len(first.captured_queries) <= 20


def test_weekly_received(data: KpiWorld) -> None:
    weeks = kpi.weekly_received(data.world.engineer_a, november())
    assert weeks == [
        {"week": "2026-10-26", "incident": 1, "request": 0},  # T9 (Sun Nov 1 local)
        {"week": "2026-11-02", "incident": 2, "request": 0},  # T1, T2
        {"week": "2026-11-09", "incident": 2, "request": 1},  # T3, T4, T5 (Sun 15th 08:00)
        {"week": "2026-11-16", "incident": 2, "request": 0},  # T6, T11 (Sat 21st 04:00)
    ]


def test_definitions_are_complete_and_name_the_variant() -> None:
    texts = kpi.definitions("within_sla")
    assert set(texts) == set(kpi.DEFINITIONS)
    assert "within the resolution target" in texts["resolution_rate"]
    assert "⌈0.9·n⌉" in texts["time_to_respond"]
