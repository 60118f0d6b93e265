"""Probes: sustained HTTP checks per second of one probe process on one core, its scheduling
lag, and the storage a day of results takes.

    .venv/bin/python bench/probes.py [--checks 20000] [--interval 60] [--seconds 180]
                                     [--warmup 60] [--concurrency 500]
                                     [--storage-checks 100] [--engine sqlite|postgres|both]
                                     [--skip-probe] [--skip-storage]

1. **Probe throughput.** A fake server process (aiohttp, loopback) serves ``--checks`` target
   paths (``/t/<n>``) and the probe protocol (assignments with ETag, results, heartbeats). The
   real remote probe (``opsassure probe --server … --token …``) runs in its own process pinned
   to one core (``sched_setaffinity``); the fake server is pinned to another core when there
   is one. After ``--warmup`` seconds the script measures for ``--seconds``: checks/s (results
   the server received, by their start time), the probe's p50/p99 lag (start − due, from its
   heartbeats; the worst p99 seen is reported), and the probe's CPU time and CPU %.
   Goal: 20,000 checks at 60 s = 333 checks/s on one core, p99 lag < 1 s.
2. **Storage growth per 1,000 checks per day**, SQLite and PostgreSQL (``OPSASSURE_BENCH_PG_URL``,
   default postgres://postgres@127.0.0.1:5432/postgres; a scratch database is created and
   dropped): a day of results (one a minute, 1 % failures with a message) for
   ``--storage-checks`` checks goes through ``probing.accept_results`` in 10-minute batches;
   bytes of the result tables including indexes, scaled to 1,000 checks. Also the server's
   accept rate with live-shaped batches (one result per check, 1,000 checks a batch).
3. The 30-day chart render time, when ``bench/lib/monitoring_chart.py`` exists (``measure_chart``).

Exit code 0 unless the script itself broke.
"""

from __future__ import annotations

# bench/platform.py is named like the standard library's module: take the folder off the path.
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE / "lib"))

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

ROOT = _HERE.parent
PYTHON = sys.executable
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"
TOKEN = "opsp_bench_secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_info() -> str:
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} CPUs, load1 {os.getloadavg()[0]:.2f}"


# --- 1. the fake server ---------------------------------------------------------------------


def serve_fake(port: int, checks: int, interval: int) -> None:
    """Targets and the probe protocol, in one aiohttp process."""
    import asyncio

    from aiohttp import web

    body = json.dumps(
        {
            "probe": {"id": 1, "name": "bench", "zone": "loopback"},
            "poll_seconds": 30,
            "checks": [
                {
                    "id": n + 1,
                    "kind": "http",
                    "target": f"http://127.0.0.1:{port}/t/{n}",
                    "settings": {"expected_status": 200},
                    "interval_seconds": interval,
                    "timeout_seconds": 10,
                    "retries": 0,
                    "config_version": 1,
                }
                for n in range(checks)
            ],
        }
    ).encode()
    etag = f'"{secrets.token_hex(8)}"'
    per_second: dict[int, int] = {}
    statuses: dict[int, int] = {}
    heartbeats: list[dict[str, Any]] = []

    async def target(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def assignments(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="application/json", headers={"ETag": etag})

    async def results(request: web.Request) -> web.Response:
        from datetime import datetime

        payload = await request.json()
        for item in payload["results"]:
            second = int(datetime.fromisoformat(item["started_at"]).timestamp())
            per_second[second] = per_second.get(second, 0) + 1
            statuses[item["status"]] = statuses.get(item["status"], 0) + 1
        return web.json_response(
            {"accepted": len(payload["results"]), "duplicates": 0, "refused": []}
        )

    async def heartbeat(request: web.Request) -> web.Response:
        data = await request.json()
        data["at"] = time.time()
        heartbeats.append(data)
        return web.json_response({"status": "ok"})

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(
            {
                "per_second": per_second,
                "statuses": statuses,
                "heartbeats": heartbeats,
            }
        )

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_get("/t/{n}", target)
    app.router.add_get("/api/v1/monitoring/probe/assignments/", assignments)
    app.router.add_post("/api/v1/monitoring/probe/results/", results)
    app.router.add_post("/api/v1/monitoring/probe/heartbeat/", heartbeat)
    app.router.add_get("/bench/stats", stats)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, backlog=4096)
    del asyncio


def _pin(pid: int, core: int) -> str:
    cores = sorted(os.sched_getaffinity(0))
    chosen = cores[core % len(cores)]
    os.sched_setaffinity(pid, {chosen})
    return str(chosen)


def _get_json(url: str) -> Any:
    import httpx

    return httpx.get(url, timeout=30).json()


def bench_probe(args: argparse.Namespace) -> dict[str, Any]:
    import httpx
    import psutil

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = Path(tempfile.mkdtemp(prefix="opsassure-bench-probes-"))
    server = subprocess.Popen(
        [
            PYTHON,
            __file__,
            "--fake-server",
            str(port),
            "--checks",
            str(args.checks),
            "--interval",
            str(args.interval),
        ],
        stdout=(logs / "server.log").open("wb"),
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    probe: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/t/0", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("fake server did not start")
            time.sleep(0.2)
        server_core = _pin(server.pid, 1)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        probe = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "opsassure",
                "probe",
                "--server",
                base,
                "--token",
                TOKEN,
                "--concurrency",
                str(args.concurrency),
                "--heartbeat-seconds",
                "5",
                "--log-level",
                "WARNING",
                "--spool",
                str(logs / "spool"),
            ],
            stdout=(logs / "probe.log").open("wb"),
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )
        probe_core = _pin(probe.pid, 0)
        process = psutil.Process(probe.pid)
        print(f"  probe pid {probe.pid} on core {probe_core}, fake server on core {server_core}")
        time.sleep(args.warmup)
        window_start = time.time()
        cpu_start = process.cpu_times()
        time.sleep(args.seconds)
        cpu_end = process.cpu_times()
        window_end = time.time()
        memory = process.memory_info().rss
        stats = _get_json(f"{base}/bench/stats")
    finally:
        if probe is not None:
            probe.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                probe.wait(timeout=30)
            if probe.poll() is None:
                probe.kill()
        server.terminate()
        server.wait(timeout=30)
    first, last = int(window_start) + 1, int(window_end) - 1  # whole seconds inside the window
    counts = [stats["per_second"].get(str(second), 0) for second in range(first, last)]
    executed = sum(counts)
    span = max(1, last - first)
    in_window = [beat for beat in stats["heartbeats"] if window_start <= beat["at"] <= window_end]
    p99s = [beat["lag_p99_ms"] for beat in in_window if beat.get("lag_p99_ms") is not None]
    cpu = (cpu_end.user - cpu_start.user) + (cpu_end.system - cpu_start.system)
    wall = window_end - window_start
    last_beat = in_window[-1] if in_window else {}
    shutil.rmtree(logs, ignore_errors=True)
    return {
        "checks": args.checks,
        "interval": args.interval,
        "checks_per_s": executed / span,
        "min_second": min(counts) if counts else 0,
        "max_second": max(counts) if counts else 0,
        "goal_per_s": args.checks / args.interval,
        "lag_p50_ms": last_beat.get("lag_p50_ms"),
        "lag_p99_ms_last": last_beat.get("lag_p99_ms"),
        "lag_p99_ms_worst": max(p99s) if p99s else None,
        "skipped": last_beat.get("skipped"),
        "dropped": last_beat.get("dropped"),
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "cpu_percent": 100 * cpu / wall,
        "rss_mb": memory / 1e6,
        "statuses": stats["statuses"],
    }


# --- 2. storage -----------------------------------------------------------------------------


@contextlib.contextmanager
def environment(engine: str) -> Iterator[dict[str, str]]:
    data_dir = tempfile.mkdtemp(prefix=f"opsassure-bench-probes-{engine}-")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OPSASSURE_") or k.startswith("OPSASSURE_BENCH")
    }
    env.update(OPSASSURE_DATA_DIR=data_dir, DJANGO_SETTINGS_MODULE="opsassure.settings")
    name = ""
    admin_url = os.environ.get("OPSASSURE_BENCH_PG_URL", DEFAULT_PG_URL)
    if engine == "postgres":
        import psycopg

        name = f"opsassure_bench_{secrets.token_hex(4)}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        env["OPSASSURE_DATABASE_URL"] = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    try:
        yield env
    finally:
        if name:
            import psycopg

            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)


RESULT_TABLES = ("monitoring_checkresult", "monitoring_resultbatch")


def _table_bytes(tables: tuple[str, ...]) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            total = 0
            for table in tables:
                cursor.execute("SELECT pg_total_relation_size(%s)", [table])
                total += int(cursor.fetchone()[0])
            return total
        # SQLite: pages of the tables and of their indexes (dbstat).
        marks = ",".join(["%s"] * len(tables))
        cursor.execute(f"SELECT name FROM sqlite_master WHERE tbl_name IN ({marks})", tables)
        names = [row[0] for row in cursor.fetchall()]
        marks = ",".join(["%s"] * len(names))
        cursor.execute(f"SELECT SUM(pgsize) FROM dbstat WHERE name IN ({marks})", names)
        return int(cursor.fetchone()[0] or 0)


def storage_worker(checks: int) -> None:
    """Runs inside the engine's environment: migrate, load a day, print JSON."""
    import django

    django.setup()
    import datetime as dt
    import uuid

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    call_command("migrate", interactive=False, verbosity=0)
    from opsassure.core.models import Customer
    from opsassure.monitoring import probing, tokens
    from opsassure.monitoring.models import CheckResult, Monitor
    from opsassure.monitoring.probing_input import ResultIn

    customer = Customer.objects.create(code="BENCH", name="Bench")
    probe, _token = tokens.create_probe(name="bench", zone="loopback")

    def make(count: int, prefix: str) -> list[Monitor]:
        made = Monitor.objects.bulk_create(
            Monitor(customer=customer, name=f"{prefix}{n}", kind="http", target=f"http://h/{n}")
            for n in range(count)
        )
        Monitor.probes.through.objects.bulk_create(
            Monitor.probes.through(monitor_id=m.pk, probe_id=probe.pk) for m in made
        )
        return made

    monitors = make(checks, "c")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    day_start = now - dt.timedelta(days=1)
    before = _table_bytes(RESULT_TABLES)
    started = time.perf_counter()
    total = 0
    with override_settings(MONITORING_MAX_RESULTS_PER_BATCH=100_000):
        for block in range(144):  # 10-minute batches
            results = []
            for minute in range(10):
                at = day_start + dt.timedelta(minutes=block * 10 + minute)
                for index, monitor in enumerate(monitors):
                    failed = (index + block * 10 + minute) % 100 == 0
                    results.append(
                        ResultIn(
                            check_id=monitor.pk,
                            started_at=at + dt.timedelta(milliseconds=index * 37 % 60000),
                            status=2 if failed else 0,
                            response_ms=None if failed else 3.5 + (index % 50) / 10,
                            message="HTTP 500, expected 200-399" if failed else "",
                        )
                    )
            answer = probing.accept_results(probe, uuid.uuid4(), results, now=now)
            total += answer.accepted
    load_seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE monitoring_checkresult")
    after = _table_bytes(RESULT_TABLES)
    rows = CheckResult.objects.count()
    # Live-shaped: one result per check per batch (what 1 s of 20,000 checks at 60 s sends).
    live_checks = make(1000, "live")
    live_started = time.perf_counter()
    live_total = 0
    for round_number in range(10):
        at = now - dt.timedelta(seconds=600 - round_number)
        batch = [
            ResultIn(check_id=m.pk, started_at=at, status=0, response_ms=4.0) for m in live_checks
        ]
        live_total += probing.accept_results(probe, uuid.uuid4(), batch, now=now).accepted
    live_seconds = time.perf_counter() - live_started
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "checks": checks,
                "rows": rows,
                "accepted": total,
                "bytes": after - before,
                "bytes_per_row": (after - before) / max(1, rows),
                "bytes_per_1000_checks_day": (after - before) * 1000 / checks,
                "load_rows_per_s": total / load_seconds,
                "live_results_per_s": live_total / live_seconds,
                "live_batch": len(live_checks),
            }
        )
    )


def bench_storage(engine: str, checks: int) -> dict[str, Any]:
    with environment(engine) as env:
        result = subprocess.run(
            [PYTHON, __file__, "--storage-worker", str(checks)],
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
            cwd=ROOT,
        )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def postgres_answers() -> bool:
    try:
        import psycopg

        with psycopg.connect(
            os.environ.get("OPSASSURE_BENCH_PG_URL", DEFAULT_PG_URL), connect_timeout=3
        ):
            return True
    except Exception:
        return False


def chart_figures() -> dict[str, Any] | None:
    if not (_HERE / "lib" / "monitoring_chart.py").exists():
        return None
    import monitoring_chart

    return dict(monitoring_chart.measure_chart())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--checks", type=int, default=20_000)
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--warmup", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--storage-checks", type=int, default=100)
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="")
    parser.add_argument("--skip-probe", action="store_true")
    parser.add_argument("--skip-storage", action="store_true")
    parser.add_argument("--fake-server", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--storage-worker", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fake_server:
        serve_fake(args.fake_server, args.checks, args.interval)
        return
    if args.storage_worker:
        storage_worker(args.storage_worker)
        return
    print(f"machine: {cpu_info()}")
    if not args.skip_probe:
        print(
            f"== probe: {args.checks} HTTP checks every {args.interval} s, concurrency "
            f"{args.concurrency}, warm-up {args.warmup:.0f} s, window {args.seconds:.0f} s"
        )
        figures = bench_probe(args)
        print(
            f"  checks/s {figures['checks_per_s']:.1f} (goal {figures['goal_per_s']:.1f}; "
            f"per second min {figures['min_second']} max {figures['max_second']})"
        )
        print(
            f"  lag p50 {figures['lag_p50_ms']} ms, p99 {figures['lag_p99_ms_last']} ms "
            f"(worst p99 in the window {figures['lag_p99_ms_worst']} ms; goal < 1000 ms)"
        )
        print(
            f"  probe CPU {figures['cpu_seconds']:.1f} s in {figures['wall_seconds']:.1f} s "
            f"= {figures['cpu_percent']:.1f} % of one core; RSS {figures['rss_mb']:.0f} MB; "
            f"skipped {figures['skipped']}, dropped {figures['dropped']}; "
            f"statuses {figures['statuses']}"
        )
    if not args.skip_storage:
        engines = (
            [args.engine]
            if args.engine in {"sqlite", "postgres"}
            else ["sqlite", "postgres"]
            if args.engine == "both" or postgres_answers()
            else ["sqlite"]
        )
        for engine in engines:
            print(f"== storage ({engine}): a day of results for {args.storage_checks} checks")
            figures = bench_storage(engine, args.storage_checks)
            print(
                f"  {figures['rows']} rows, {figures['bytes'] / 1e6:.1f} MB, "
                f"{figures['bytes_per_row']:.0f} B/row incl. indexes → "
                f"{figures['bytes_per_1000_checks_day'] / 1e6:.0f} MB per 1,000 checks per day "
                f"(7-day retention: {7 * figures['bytes_per_1000_checks_day'] / 1e9:.2f} GB)"
            )
            print(
                f"  accept_results: {figures['load_rows_per_s']:.0f} results/s in 10-minute "
                f"batches; {figures['live_results_per_s']:.0f} results/s in live-shaped batches "
                f"of {figures['live_batch']} checks"
            )
    chart = chart_figures()
    if chart is not None:
        print(f"== 30-day chart: {chart}")


if __name__ == "__main__":
    main()
