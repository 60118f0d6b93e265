"""SLA deadline benchmark: business-time computations per second on one core.

    .venv/bin/python bench/sla.py [--pairs 100000] [--seed 7]

Builds the 5×8 calendar (Asia/Shanghai, Mon–Fri 08:00–12:00 and 14:00–18:00, mainland-China
holidays and 调休 working days of 2025–2026 from the ``holidays`` package) and the 7×24
calendar, then times

* ``add(start, minutes)`` over N random pairs: start uniform in 2025-01-01 … 2026-12-31
  (UTC, to the second), minutes uniform in 15 … 2400 (5 working days of 5×8);
* ``elapsed(start, end)`` over N random pairs with end 0 … 14 days after start.

The engine is built once (with its per-year tables, timed separately) and each loop is
run twice; the second pass is the figure. The goal from issue #4: at least 20,000
deadlines/s with 5×8 and holidays.
No database is involved: the engine is pure Python, built once per calendar revision.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from collections.abc import Callable
from typing import Any

from opsassure.catalog.business_time import BusinessCalendar, seven_by_twenty_four
from opsassure.catalog.holidays_cn import china_schedule

GOAL_PER_SECOND = 20_000
YEARS = (2025, 2026)


def china_days() -> tuple[set[dt.date], set[dt.date]]:
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    for year in YEARS:
        schedule = china_schedule(year)
        assert schedule is not None
        holidays |= set(schedule.holidays)
        workdays |= set(schedule.workdays)
    return holidays, workdays


def five_by_eight(holidays: set[dt.date], workdays: set[dt.date]) -> BusinessCalendar:
    return BusinessCalendar(
        zone="Asia/Shanghai",
        weekly={day: [(480, 720), (840, 1080)] for day in range(5)},
        holidays=holidays,
        workdays=workdays,
        covered_years=YEARS,
    )


def timed(label: str, function: Callable[[Any, Any], Any], pairs: list[tuple[Any, Any]]) -> float:
    began = time.perf_counter()
    for first, second in pairs:
        function(first, second)
    seconds = time.perf_counter() - began
    rate = len(pairs) / seconds
    print(f"  {label:<34} {rate:>12,.0f} /s   ({seconds:.3f} s for {len(pairs):,})")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    origin = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    span = int((dt.datetime(2026, 12, 31, tzinfo=dt.UTC) - origin).total_seconds())
    starts = [origin + dt.timedelta(seconds=rng.randrange(span)) for _ in range(args.pairs)]
    deadline_pairs = [(start, rng.randint(15, 2400)) for start in starts]
    elapsed_pairs = [
        (start, start + dt.timedelta(seconds=rng.randrange(14 * 86400))) for start in starts
    ]

    print(f"bench/sla.py: {args.pairs:,} random pairs, seed {args.seed}, one core")
    holidays, workdays = china_days()
    print(f"holiday data: {len(holidays)} holidays, {len(workdays)} 调休 days in {YEARS}")
    results: dict[str, float] = {}
    engines = {
        "5x8 + CN holidays": lambda: five_by_eight(holidays, workdays),
        "7x24": seven_by_twenty_four,
    }
    for name, factory in engines.items():
        began = time.perf_counter()
        engine = factory()
        for year in YEARS:
            engine.business_seconds_on(dt.date(year, 1, 1))  # builds the year's table
        built = (time.perf_counter() - began) * 1000
        print(f"{name} (engine + tables for {YEARS} built in {built:.1f} ms)")
        results[f"{name} add first"] = timed(
            "add() deadlines, 1st pass", engine.add, deadline_pairs
        )
        results[f"{name} add warm"] = timed("add() deadlines, 2nd pass", engine.add, deadline_pairs)
        results[f"{name} elapsed"] = timed("elapsed() intervals", engine.elapsed, elapsed_pairs)
    warm = results["5x8 + CN holidays add warm"]
    verdict = "meets" if warm >= GOAL_PER_SECOND else "MISSES"
    print(
        f"5x8 deadlines/s = {warm:,.0f}: {warm / GOAL_PER_SECOND:.1f}× the goal of "
        f"{GOAL_PER_SECOND:,}/s — {verdict} it"
    )


if __name__ == "__main__":
    main()
