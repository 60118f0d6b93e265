"""Monitoring metrics: rollups, availability over a year, agent pushes, retention.

    .venv/bin/python bench/metrics.py [--checks 50] [--engine sqlite|postgres|both]

In a scratch database (SQLite in a temporary data dir; PostgreSQL: its own database on
``OPSASSURE_BENCH_PG_URL``, default postgres://postgres@127.0.0.1:5432/, dropped afterwards):

* a year of hourly and daily check rollups for ``--checks`` checks, then the time to read one
  check's availability over 365 days (p50/p95 of 200 reads; goal: milliseconds) and that of
  all the checks at once;
* ``rollup_recent`` over three hours of raw results (``--checks`` × 10 checks at a 60 s
  interval) — the periodic job's cost;
* ``accept_push`` of a typical agent push (one point, 20 metrics): p50/p95 of 300 pushes;
* ``purge_expired`` of 8 days of raw results past the retention.

Figures are printed; the exit code is 0 unless the script itself broke.
"""

from __future__ import annotations

# The bench folder holds platform.py, named like the standard library's module: take the folder
# off the import path before anything imports ``platform``.
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import contextlib  # noqa: E402
import datetime as dt  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def pg_url() -> str:
    return os.environ.get("OPSASSURE_BENCH_PG_URL") or DEFAULT_PG_URL


@contextlib.contextmanager
def scratch_postgres() -> Iterator[str]:
    import psycopg

    name = f"opsassure_bench_{secrets.token_hex(4)}"
    with psycopg.connect(pg_url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(pg_url())
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        with psycopg.connect(pg_url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(data_dir: str, database_url: str | None) -> None:
    os.environ["OPSASSURE_DATA_DIR"] = data_dir
    os.environ["OPSASSURE_DEBUG"] = "0"
    if database_url:
        os.environ["OPSASSURE_DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "opsassure.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(fn: Any, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def run(engine: str, checks: int) -> None:
    from django.conf import settings
    from django.db.models import F
    from django.utils import timezone

    from opsassure.core.models import Customer
    from opsassure.monitoring import metrics, queries, rollups, tokens
    from opsassure.monitoring.models import CheckResult, CheckRollup, Monitor, Period

    print(f"\n== {engine} ==", flush=True)
    customer = Customer.objects.create(code="BENCH", name="Bench")
    probe, _t = tokens.create_probe(name="bench")
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    start = now.replace(hour=0) - dt.timedelta(days=365)
    monitors = Monitor.objects.bulk_create(
        [
            Monitor(customer=customer, name=f"c{i}", kind="http", target="http://x/")
            for i in range(checks)
        ]
    )
    began = time.perf_counter()
    for monitor in monitors:
        rows = [
            CheckRollup(
                monitor=monitor,
                period=Period.HOUR,
                bucket=start + dt.timedelta(hours=h),
                total=60,
                up=59,
                down=1,
                hours_total=60,
                hours_up=59,
            )
            for h in range(365 * 24)
        ] + [
            CheckRollup(
                monitor=monitor,
                period=Period.DAY,
                bucket=start + dt.timedelta(days=d),
                total=1440,
                up=1416,
                down=24,
                hours_total=1440,
                hours_up=1416,
            )
            for d in range(365)
        ]
        CheckRollup.objects.bulk_create(rows, batch_size=2000)
    rows_total = CheckRollup.objects.count()
    print(f"loaded {rows_total} rollup rows in {time.perf_counter() - began:.1f} s", flush=True)
    one = monitors[checks // 2]
    value = queries.availability(one, start, now)
    times = timed(lambda: queries.availability(one, start, now), 200)
    print(
        f"availability, one check, 365 days: p50 {percentile(times, 50):.2f} ms, "
        f"p95 {percentile(times, 95):.2f} ms (value {value:.5f})"
    )
    ids = [m.pk for m in monitors]
    times = timed(lambda: queries.availability_many(ids, start, now), 20)
    print(f"availability, {checks} checks at once, 365 days: p50 {percentile(times, 50):.1f} ms")
    times = timed(lambda: queries.response_series(one, "30d", now=now), 50)
    print(f"30-day chart data (720 hourly points): p50 {percentile(times, 50):.2f} ms")

    # Raw results: checks×10 checks at 60 s for the last 3 hours, then the periodic rollup.
    many = Monitor.objects.bulk_create(
        [
            Monitor(customer=customer, name=f"r{i}", kind="http", target="http://x/")
            for i in range(checks * 10)
        ]
    )
    raw_start = now - dt.timedelta(hours=2)
    results = [
        CheckResult(
            monitor=m,
            probe=probe,
            started_at=raw_start + dt.timedelta(minutes=k),
            status=0 if k % 50 else 2,
            response_ms=20.0 + k % 7,
        )
        for m in many
        for k in range(180)
    ]
    CheckResult.objects.bulk_create(results, batch_size=5000)
    times = timed(lambda: rollups.rollup_recent(now=now + dt.timedelta(minutes=59)), 3)
    print(
        f"rollup_recent over {len(results)} raw results ({len(many)} checks × 3 h): "
        f"p50 {percentile(times, 50):.0f} ms"
    )

    # Agent pushes.
    _row, token = tokens.create_agent_token(customer=customer, name="bench")
    row = tokens.authenticate_agent(token)
    assert row is not None
    counter = iter(range(10**9))

    def push() -> None:
        at = now - dt.timedelta(hours=1) + dt.timedelta(seconds=next(counter))
        metric_list = [{"name": f"m{i}", "value": float(i), "dimension": ""} for i in range(20)]
        payload = {
            "hostname": "bench-host",
            "addresses": ["10.0.0.1"],
            "interval": 30,
            "points": [{"ts": at.isoformat(), "metrics": metric_list}],
        }
        metrics.accept_push(row, payload)

    push()
    times = timed(push, 300)
    print(
        f"accept_push (1 point, 20 metrics): p50 {percentile(times, 50):.1f} ms, "
        f"p95 {percentile(times, 95):.1f} ms"
    )

    # Age every raw result past the retention, then purge them.
    age = dt.timedelta(days=settings.MONITORING_RAW_RETENTION_DAYS + 2)
    CheckResult.objects.update(started_at=F("started_at") - age)
    began = time.perf_counter()
    deleted = rollups.purge_expired(now=now)
    print(f"purge_expired: {deleted} rows in {(time.perf_counter() - began) * 1000:.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=50)
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine == "both":
        for engine in ("sqlite", "postgres"):
            command = [sys.executable, __file__, "--engine", engine, "--checks", str(args.checks)]
            subprocess.run(command, check=False)
        return 0
    with tempfile.TemporaryDirectory() as data_dir:
        if args.engine == "postgres":
            with scratch_postgres() as url:
                setup_django(data_dir, url)
                run("postgres", args.checks)
        else:
            setup_django(data_dir, None)
            run("sqlite", args.checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
