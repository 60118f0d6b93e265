"""Rollups: exact counts from raw rows, 5×8 service hours, idempotent upserts, retention."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from opsassure.monitoring import queries, rollups, tokens
from opsassure.monitoring.metrics import SampleIn, store_samples
from opsassure.monitoring.models import (
    Agent,
    CheckResult,
    CheckRollup,
    Period,
    ResultBatch,
    Sample,
    SampleRollup,
)
from tests.conftest import World
from tests.monitoring.metrics_fixtures import calendar, check, probe, results, utc

pytestmark = pytest.mark.django_db

MONDAY = utc(2026, 3, 9)  # a Monday without Chinese public holidays around it
WEEK_END = MONDAY + dt.timedelta(days=7)
TEN_MINUTES = dt.timedelta(minutes=10)
# Tuesday 02:00–04:00 UTC = 10:00–12:00 in Shanghai: inside working hours.
DOWN_TUESDAY = (utc(2026, 3, 10, 2), utc(2026, 3, 10, 4))
# Saturday 02:00–04:00 UTC: outside any 5×8 calendar.
DOWN_SATURDAY = (utc(2026, 3, 14, 2), utc(2026, 3, 14, 4))


def _week_of_results(world: World) -> dict[str, object]:
    runner = probe()
    plain = check(world.customer_a, name="plain")
    five_by_eight = check(world.customer_a, calendar(world.customer_a, 540, 1020), "5x8")
    half_hours = check(world.customer_a, calendar(world.customer_a, 510, 1050), "0830")
    for monitor in (plain, five_by_eight, half_hours):
        created = results(
            monitor, runner, MONDAY, WEEK_END, TEN_MINUTES, down=[DOWN_TUESDAY, DOWN_SATURDAY]
        )
        assert created == 7 * 24 * 6
    return {"plain": plain, "5x8": five_by_eight, "0830": half_hours}


def _sums(monitor: object, period: str) -> dict[str, int]:
    rows = CheckRollup.objects.filter(monitor=monitor, period=period)
    return {
        "rows": rows.count(),
        "total": sum(r.total for r in rows),
        "up": sum(r.up for r in rows),
        "down": sum(r.down for r in rows),
        "hours_total": sum(r.hours_total for r in rows),
        "hours_up": sum(r.hours_up for r in rows),
    }


def test_week_of_results_rolls_up_exactly_with_and_without_service_hours(world: World) -> None:
    checks = _week_of_results(world)
    rollups.rollup_range(MONDAY, WEEK_END)

    plain = _sums(checks["plain"], Period.HOUR)
    assert plain == {
        "rows": 168,
        "total": 1008,
        "up": 984,
        "down": 24,
        "hours_total": 1008,
        "hours_up": 984,
    }
    # 5×8 (09:00–17:00 Shanghai = 01:00–09:00 UTC, Mon–Fri): 5 days × 8 h × 6 results; the
    # Tuesday outage is in working time, the Saturday one is not counted at all.
    five = _sums(checks["5x8"], Period.HOUR)
    assert (five["rows"], five["total"], five["down"]) == (168, 1008, 24)
    assert (five["hours_total"], five["hours_up"]) == (240, 228)
    # 08:30–17:30: half hours at both ends of each day (3 results each) → 9 h × 6 a day.
    half = _sums(checks["0830"], Period.HOUR)
    assert (half["hours_total"], half["hours_up"]) == (270, 258)
    first_hour = CheckRollup.objects.get(
        monitor=checks["0830"], period=Period.HOUR, bucket=utc(2026, 3, 9, 0)
    )
    assert (first_hour.total, first_hour.hours_total) == (6, 3)

    # Daily rows are the sums of the hourly ones.
    for key in ("plain", "5x8", "0830"):
        daily = _sums(checks[key], Period.DAY)
        hourly = _sums(checks[key], Period.HOUR)
        assert daily == {**hourly, "rows": 7}
    saturday = CheckRollup.objects.get(
        monitor=checks["5x8"], period=Period.DAY, bucket=utc(2026, 3, 14)
    )
    assert (saturday.total, saturday.down, saturday.hours_total) == (144, 12, 0)

    hour = CheckRollup.objects.get(
        monitor=checks["plain"], period=Period.HOUR, bucket=utc(2026, 3, 10, 5)
    )
    assert (hour.response_count, hour.response_sum_ms, hour.response_max_ms) == (6, 600.0, 100.0)
    down_hour = CheckRollup.objects.get(
        monitor=checks["plain"], period=Period.HOUR, bucket=utc(2026, 3, 10, 3)
    )
    assert (down_hour.response_count, down_hour.response_sum_ms) == (0, 0.0)
    assert down_hour.response_max_ms is None

    assert queries.availability(checks["plain"], MONDAY, WEEK_END) == 984 / 1008
    assert queries.availability(checks["5x8"], MONDAY, WEEK_END) == 228 / 240
    assert queries.availability(checks["0830"], MONDAY, WEEK_END) == 258 / 270
    # A range that is not day-aligned: hourly rows at the edges (Tue 03:00 and 04:00).
    edge = queries.availability(checks["plain"], utc(2026, 3, 10, 2, 30), utc(2026, 3, 10, 5))
    assert edge == 6 / 12
    # Only weekend hours: nothing in a 5×8 calendar's hours → no availability at all.
    weekend = queries.availability(checks["5x8"], utc(2026, 3, 14), utc(2026, 3, 16))
    assert weekend is None


def test_rollups_are_upserts_safe_to_repeat_and_pick_up_late_results(world: World) -> None:
    checks = _week_of_results(world)
    rollups.rollup_range(MONDAY, WEEK_END)
    before = list(CheckRollup.objects.order_by("pk").values())
    rollups.rollup_range(MONDAY, WEEK_END)
    assert list(CheckRollup.objects.order_by("pk").values()) == before

    late = CheckResult.objects.create(
        monitor=checks["plain"],
        probe=probe(),
        started_at=utc(2026, 3, 15, 23, 5),
        status=2,
        message="late",
    )
    assert late.pk
    written = rollups.rollup_recent(now=utc(2026, 3, 15, 23, 59))
    assert written > 0
    hour = CheckRollup.objects.get(
        monitor=checks["plain"], period=Period.HOUR, bucket=utc(2026, 3, 15, 23)
    )
    assert (hour.total, hour.down, hour.hours_total, hour.hours_up) == (7, 1, 7, 6)
    day = CheckRollup.objects.get(
        monitor=checks["plain"], period=Period.DAY, bucket=utc(2026, 3, 15)
    )
    assert (day.total, day.down) == (145, 1)
    assert CheckRollup.objects.count() == 3 * (168 + 7)


def test_sample_rollups_count_sum_min_max(world: World) -> None:
    token_row, _token = tokens.create_agent_token(customer=world.customer_a, name="t")
    agent = Agent.objects.create(customer=world.customer_a, token=token_row, hostname="h1")
    start = utc(2026, 3, 9, 10)
    samples = [
        SampleIn(name="cpu_percent", value=float(i % 100), ts=start + dt.timedelta(seconds=30 * i))
        for i in range(240)  # two hours every 30 s
    ]
    (series_id,), inserted = store_samples(
        customer_id=world.customer_a.pk, ci_id=None, samples=samples, agent_id=agent.pk
    )
    assert inserted == 240
    rollups.rollup_range(start, start + dt.timedelta(hours=2))
    first, second = SampleRollup.objects.filter(series_id=series_id, period=Period.HOUR)
    assert (first.bucket, first.count, first.minimum, first.maximum) == (start, 120, 0.0, 99.0)
    assert first.total == float(sum(i % 100 for i in range(120)))
    assert second.total == float(sum(i % 100 for i in range(120, 240)))
    day = SampleRollup.objects.get(series_id=series_id, period=Period.DAY)
    assert (day.bucket, day.count, day.minimum, day.maximum) == (utc(2026, 3, 9), 240, 0.0, 99.0)
    assert day.total == first.total + second.total

    chart = queries.metric_series(series_id, "7d", now=start + dt.timedelta(hours=3))
    assert chart["resolution"] == "hour"
    assert [p["avg"] for p in chart["points"]] == [42.833333, 46.166667]
    assert first.total / 120 == pytest.approx(42.833333)
    raw = queries.metric_series(series_id, "24h", now=start + dt.timedelta(hours=3))
    assert len(raw["points"]) == 240


@override_settings(MONITORING_RAW_RETENTION_DAYS=7, MONITORING_ROLLUP_RETENTION_DAYS=400)
def test_retention_deletes_exactly_what_is_past_it_in_chunks(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rollups, "DELETE_CHUNK", 7)  # many chunks, one partial
    now = utc(2026, 3, 20, 12)
    runner = probe()
    monitor = check(world.customer_a)
    hour = dt.timedelta(hours=1)
    # 30 results before the raw cutoff (now − 7 d), 20 after it.
    results(
        monitor, runner, now - dt.timedelta(days=7) - 30 * hour, now - dt.timedelta(days=7), hour
    )
    results(
        monitor, runner, now - dt.timedelta(days=7), now - dt.timedelta(days=7) + 20 * hour, hour
    )
    CheckRollup.objects.bulk_create(
        [
            CheckRollup(
                monitor=monitor,
                period=Period.DAY,
                bucket=utc(2025, 2, 1) + i * dt.timedelta(days=1),
            )
            for i in range(40)  # 2025-02-01 … 2025-03-12; the cutoff is 2025-02-13 12:00
        ]
    )
    ResultBatch.objects.create(
        probe=runner,
        batch_id="00000000-0000-0000-0000-000000000001",
        received_at=now - dt.timedelta(days=8),
    )
    ResultBatch.objects.create(
        probe=runner,
        batch_id="00000000-0000-0000-0000-000000000002",
        received_at=now - dt.timedelta(days=6),
    )
    deleted = rollups.purge_expired(now=now)
    assert CheckResult.objects.count() == 20
    assert CheckResult.objects.filter(started_at__lt=now - dt.timedelta(days=7)).count() == 0
    cutoff = now - dt.timedelta(days=400)
    assert cutoff == utc(2025, 2, 13, 12)
    assert CheckRollup.objects.count() == 27  # 2025-02-14 … 2025-03-12
    assert CheckRollup.objects.order_by("bucket").first().bucket == utc(2025, 2, 14)
    assert ResultBatch.objects.count() == 1
    assert Sample.objects.count() == 0
    assert deleted == 30 + 13 + 1
    assert rollups.purge_expired(now=now) == 0
