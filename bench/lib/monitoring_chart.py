"""Time to render a check's 30-day chart: the data alone, the JSON the page fetches when the
window changes, and the whole detail page with the chart embedded.

    .venv/bin/python bench/lib/monitoring_chart.py [--interval 60] [--samples 50] [--json]

``measure_chart()`` (called by bench/probes.py) runs this file in a child process with its own
temporary data directory (SQLite; ``OPSASSURE_BENCH_PG_URL`` is not used here), so the caller's
Django setup and database are untouched. The check has 30 days of hourly and daily rollups and
24 hours of raw results at ``--interval`` seconds (60 s: 1,440 results; 10 s: 8,640), written
the way the rollup job would write them. Each figure is p50/p95 over ``--samples`` renders.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def measure_chart(interval: int = 60, samples: int = 50) -> dict[str, Any]:
    """Run the measurement in a fresh process; returns its figures (milliseconds)."""
    completed = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--json",
            "--interval",
            str(interval),
            "--samples",
            str(samples),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def _timed(function: Callable[[], Any], samples: int) -> dict[str, float]:
    function()  # warm caches and templates once
    times = []
    for _ in range(samples):
        begin = time.perf_counter()
        function()
        times.append((time.perf_counter() - begin) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 2),
        "max_ms": round(times[-1], 2),
    }


def _setup(data_dir: str) -> None:
    os.environ["OPSASSURE_DATA_DIR"] = data_dir
    os.environ.pop("OPSASSURE_TESTING", None)
    os.environ.pop("OPSASSURE_DATABASE_URL", None)
    os.environ["OPSASSURE_DEBUG"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "opsassure.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def _history(interval: int) -> tuple[Any, Any]:
    from django.utils import timezone

    from opsassure.core.models import Customer, User
    from opsassure.monitoring import services, tokens
    from opsassure.monitoring.models import CheckResult, CheckRollup

    customer = Customer.objects.create(code="BENCH", name="Bench customer")
    user = User.objects.create_superuser("bench", "bench@example.cn", "bench-password")
    monitor = services.create_check(
        customer=customer,
        name="bench check",
        kind="http",
        target="https://bench.example.cn/",
        interval_seconds=max(10, interval),
        timeout_seconds=5,
    )
    probe = tokens.ensure_local_probe()
    now = timezone.now().replace(microsecond=0)
    per_hour = 3600 // interval
    first_hour = (now - dt.timedelta(days=30)).replace(minute=0, second=0)
    rollups = []
    hour = first_hour
    while hour <= now:
        down = 1 if hour.hour == 3 else 0
        rollups.append(
            CheckRollup(
                monitor=monitor,
                period="h",
                bucket=hour,
                total=per_hour,
                up=per_hour - down,
                down=down,
                hours_total=per_hour,
                hours_up=per_hour - down,
                response_count=per_hour - down,
                response_sum_ms=(per_hour - down) * 42.0,
                response_max_ms=180.0,
            )
        )
        hour += dt.timedelta(hours=1)
    day = first_hour.replace(hour=0)
    while day <= now:
        rollups.append(
            CheckRollup(
                monitor=monitor,
                period="d",
                bucket=day,
                total=per_hour * 24,
                up=per_hour * 24 - 1,
                down=1,
                hours_total=per_hour * 24,
                hours_up=per_hour * 24 - 1,
            )
        )
        day += dt.timedelta(days=1)
    CheckRollup.objects.bulk_create(rollups, batch_size=2000)
    results = []
    at = now - dt.timedelta(hours=24)
    while at < now:
        results.append(
            CheckResult(monitor=monitor, probe=probe, started_at=at, status=0, response_ms=40.0)
        )
        at += dt.timedelta(seconds=interval)
    CheckResult.objects.bulk_create(results, batch_size=5000)
    return monitor, user


def run(interval: int, samples: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="opsassure-chart-bench-") as data_dir:
        _setup(data_dir)
        from django.test import Client

        from opsassure.monitoring import charts
        from opsassure.monitoring.models import CheckResult, CheckRollup

        monitor, user = _history(interval)
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        page_url = f"/monitoring/checks/{monitor.pk}/?window=30d"
        json_url = f"/monitoring/checks/{monitor.pk}/chart/?window=30d"
        assert client.get(page_url).status_code == 200
        payload = client.get(json_url).content
        figures: dict[str, Any] = {
            "interval_s": interval,
            "hourly_rollups": CheckRollup.objects.filter(period="h").count(),
            "raw_results": CheckResult.objects.count(),
            "chart_json_bytes": len(payload),
            "data_30d": _timed(lambda: charts.chart_data(monitor, "30d"), samples),
            "json_30d": _timed(lambda: client.get(json_url), samples),
            "page_30d": _timed(lambda: client.get(page_url), samples),
            "page_24h": _timed(
                lambda: client.get(f"/monitoring/checks/{monitor.pk}/?window=24h"), samples
            ),
        }
        from django.db import connections

        connections.close_all()
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="one JSON line (for measure_chart)")
    args = parser.parse_args()
    figures = run(args.interval, args.samples)
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"check chart, 30 days of hourly rollups ({figures['hourly_rollups']} rows) "
        f"+ 24 h raw at {figures['interval_s']} s ({figures['raw_results']} results)"
    )
    for key in ("data_30d", "json_30d", "page_30d", "page_24h"):
        row = figures[key]
        print(f"  {key:<9} p50 {row['p50_ms']:>7.2f} ms  p95 {row['p95_ms']:>7.2f} ms")
    print(f"  JSON for the 30-day chart: {figures['chart_json_bytes']:,} bytes")


if __name__ == "__main__":
    main()
