"""CMDB at scale: list/search latency, impact analysis, audit and import on a large estate.

    .venv/bin/python bench/cmdb.py [--cis 100000] [--relations 300000]
                                   [--engine sqlite|postgres|both] [--quick]

Generates a realistic estate with bulk inserts (2 customers, ~20 CI types, a layered relation
graph: business services → applications → databases/middleware → VMs → clusters/servers →
storage/network/power), then measures through the real code paths:

* the filtered CI list (``/api/v1/cmdb/cis/`` and, when the UI exists, ``/cmdb/cis/``) with the
  Django test client, as a provider engineer (a team serving both customers) and as a customer
  user: p50/p95 over 200 requests per query kind (goal p95 < 200 ms), and how much of the
  request time the paginator's COUNT(*) takes;
* impact analysis of 50 business services to depth 5, downstream and upstream (goal < 300 ms);
* the configuration audit over every CI, if ``cmdb.compliance.run_audit`` exists (goal < 30 s);
* a 10,000-row XLSX import, if ``cmdb.importing.import_file`` exists (goal < 60 s);
* generation time and database size.

Each engine runs in its own process with its own temporary OPSASSURE_DATA_DIR; for PostgreSQL
(``OPSASSURE_BENCH_PG_URL``, default postgres://postgres@127.0.0.1:5432/) the script creates and
drops its own database ``opsassure_bench_<hex>``. Default engine: both when PostgreSQL answers,
else SQLite. Figures are printed; the exit code is 0 unless the script itself broke.
"""

from __future__ import annotations

# The bench folder holds platform.py, named like the standard library's module: take the folder
# off the import path (before anything imports ``platform``) and put only lib/ on it.
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE / "lib"))

import argparse  # noqa: E402
import contextlib  # noqa: E402
import cProfile  # noqa: E402
import gc  # noqa: E402
import inspect  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlencode, urlsplit, urlunsplit  # noqa: E402

from cmdb_estate import Estate, generate  # noqa: E402

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"
LIST_REQUESTS = 200
IMPACT_SAMPLES = 50
IMPORT_ROWS = 10_000
GOALS = {"list": 200.0, "impact": 300.0, "audit": 30.0, "import": 60.0}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def pg_base_url() -> str:
    return os.environ.get("OPSASSURE_BENCH_PG_URL") or DEFAULT_PG_URL


def pg_reachable() -> bool:
    import psycopg

    try:
        with psycopg.connect(pg_base_url(), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@contextlib.contextmanager
def scratch_postgres() -> Iterator[str]:
    """A fresh database on the benchmark server, dropped afterwards whatever happens."""
    import psycopg

    name = f"opsassure_bench_{secrets.token_hex(4)}"
    with psycopg.connect(pg_base_url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(pg_base_url(), name)
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        with psycopg.connect(pg_base_url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(data_dir: str, database_url: str | None) -> None:
    os.environ["OPSASSURE_DATA_DIR"] = data_dir
    os.environ.pop("OPSASSURE_TESTING", None)
    os.environ["OPSASSURE_DEBUG"] = "0"
    # A one-second throttle window: the throttle's history stays short at benchmark rates (with
    # "6000/min" it would pickle thousands of timestamps per request, which no real user causes).
    os.environ["OPSASSURE_API_RATE_USER"] = "1000/s"
    if database_url:
        os.environ["OPSASSURE_DATABASE_URL"] = database_url
    else:
        os.environ.pop("OPSASSURE_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "opsassure.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # The UI pages name hashed static files (as in production): collect them once.
    call_command("collectstatic", interactive=False, verbosity=0)


# --- measurements ----------------------------------------------------------------------------


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    def add(self, what: str, figure: str, goal: str = "") -> None:
        self.rows.append((what, figure, goal))
        print(f"  {what:<58} {figure:<44} {goal}", flush=True)


def _load() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def _verdict(value: float, goal: float) -> str:
    return f"goal < {goal:g}: {'ok' if value < goal else 'MISSED'}"


def list_queries(
    estate: Estate, persona: str, rng: random.Random, count: int
) -> dict[str, list[str]]:
    """200 query strings per kind, with values a real user of that persona would type."""
    names = estate.visible_names[persona]
    addresses = estate.visible_addresses[persona]
    kinds: dict[str, Callable[[int], dict[str, str]]] = {
        "no filter": lambda i: {},
        "type": lambda i: {"ci_type": estate.type_codes[i % len(estate.type_codes)]},
        "status+environment": lambda i: {
            "status": ["in_use", "in_stock", "maintenance", "retired"][i % 4],
            "environment": ["production", "test", "development", "dr"][(i // 4) % 4],
        },
        "name prefix": lambda i: {"q": rng.choice(names)[:-2]},
        "IP address": lambda i: {"q": rng.choice(addresses)},
        "tag": lambda i: {"tag": estate.tag_names[i % len(estate.tag_names)]},
        "order by warranty_end": lambda i: {"ordering": "warranty_end"},
    }
    return {
        kind: [urlencode(make(i)) for i in range(max(count, 10))] for kind, make in kinds.items()
    }


# OPSASSURE_BENCH_PROFILE="name prefix" (a query kind): profile those list requests and print
# the slowest one's profile (their timings then include the profiler's overhead).
PROFILE_KIND = os.environ.get("OPSASSURE_BENCH_PROFILE", "")


class GcClock:
    """Milliseconds the cyclic garbage collector ran (gc.callbacks), to tell its pauses from
    the request's own work when a request is an outlier."""

    def __init__(self) -> None:
        self.total = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.total += (time.perf_counter() - self._started) * 1000


GC_CLOCK = GcClock()
GC_MS: list[float] = []  # per request of the last time_requests call


def time_requests(
    client: Any, url: str, queries: list[str], accept: str, *, profile: bool = False
) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each request (CPU: this process, i.e. SQLite included)."""
    client.get(f"{url}?{queries[0]}", HTTP_ACCEPT=accept)  # warm-up
    wall, cpu = [], []
    GC_MS.clear()
    slowest: tuple[float, Any, str] | None = None
    for query in queries:
        profiler = cProfile.Profile() if profile else None
        gc_before = GC_CLOCK.total
        begin, begin_cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        response = client.get(f"{url}?{query}", HTTP_ACCEPT=accept)
        if profiler is not None:
            profiler.disable()
        wall.append((time.perf_counter() - begin) * 1000)
        cpu.append((time.process_time() - begin_cpu) * 1000)
        GC_MS.append(GC_CLOCK.total - gc_before)
        if response.status_code != 200:
            raise RuntimeError(f"{url}?{query}: HTTP {response.status_code}")
        if profiler is not None and (slowest is None or wall[-1] > slowest[0]):
            slowest = (wall[-1], profiler, query)
    if slowest is not None:
        out = io.StringIO()
        pstats.Stats(slowest[1], stream=out).sort_stats("cumulative").print_stats(30)
        print(f"\n-- slowest request {slowest[0]:.0f} ms: {url}?{slowest[2]}\n{out.getvalue()}")
    return wall, cpu


def count_share(client: Any, url: str, queries: list[str], accept: str) -> tuple[float, float]:
    """(queries per request, ms of COUNT(*) per request) over 5 requests."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    total_queries = 0
    count_ms = 0.0
    for query in queries[:5]:
        with CaptureQueriesContext(connection) as captured:
            client.get(f"{url}?{query}", HTTP_ACCEPT=accept)
        total_queries += len(captured.captured_queries)
        count_ms += sum(
            float(q["time"]) * 1000
            for q in captured.captured_queries
            if q["sql"].lstrip().upper().startswith("SELECT COUNT(")
        )
    return total_queries / 5, count_ms / 5


def measure_lists(estate: Estate, table: Table, rng: random.Random, requests: int) -> None:
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    endpoints = [("API", "/api/v1/cmdb/cis/", "application/json")]
    try:
        endpoints.append(("UI", reverse("cmdb:ci-list"), "text/html"))
    except NoReverseMatch:
        table.add("UI /cmdb/cis/", "n/a (not on main yet)")
    for persona, user in estate.personas.items():
        client = Client()
        client.force_login(user)
        queries = list_queries(estate, persona, rng, requests)
        for label, url, accept in endpoints:
            for kind, strings in queries.items():
                if label == "API":
                    strings = [f"{s}&page_size=50" if s else "page_size=50" for s in strings]
                else:  # the UI names its sort parameter "sort"
                    strings = [s.replace("ordering=", "sort=") for s in strings]
                wall, cpu = time_requests(
                    client, url, strings[:requests], accept, profile=kind == PROFILE_KIND
                )
                per_request, count_ms = count_share(client, url, strings, accept)
                p95 = percentile(wall, 95)
                table.add(
                    f"{label} {persona:<8} {kind}",
                    f"p50 {percentile(wall, 50):5.0f}  p95 {p95:5.0f}  cpu95 "
                    f"{percentile(cpu, 95):4.0f}  gc max {max(GC_MS):3.0f} ms "
                    f"{per_request:2.0f}q COUNT {count_ms:4.1f}ms",
                    _verdict(p95, GOALS["list"]),
                )


def measure_impact(estate: Estate, table: Table, rng: random.Random) -> None:
    from opsassure.cmdb import queries
    from opsassure.cmdb.models import ConfigurationItem

    user = estate.personas["engineer"]
    samples = {
        "business service": rng.sample(
            estate.business_services, min(IMPACT_SAMPLES, len(estate.business_services))
        ),
        "server": rng.sample(estate.servers, min(IMPACT_SAMPLES, len(estate.servers))),
    }
    for what, ids in samples.items():
        cis = list(ConfigurationItem.objects.filter(pk__in=ids))
        for direction in ("downstream", "upstream"):
            timings, sizes, truncated = [], [], 0
            for ci in cis:
                begin = time.perf_counter()
                graph = queries.impact(ci, user, depth=5, direction=direction)
                timings.append((time.perf_counter() - begin) * 1000)
                sizes.append(len(graph.nodes))
                truncated += graph.truncated
            p95 = percentile(timings, 95)
            table.add(
                f"impact {what} depth 5 {direction}",
                f"p50 {percentile(timings, 50):6.1f}  p95 {p95:6.1f} ms  "
                f"nodes p50 {percentile(sizes, 50):.0f} max {max(sizes)}"
                + (f" ({truncated} truncated)" if truncated else ""),
                _verdict(p95, GOALS["impact"]) if what == "business service" else "",
            )


def measure_audit(estate: Estate, table: Table) -> None:
    try:
        from opsassure.cmdb.compliance import run_audit  # type: ignore[attr-defined]
    except ImportError:
        table.add("configuration audit (all CIs)", "n/a (not on main yet)")
        return
    params = inspect.signature(run_audit).parameters
    kwargs = {"actor": None} if "actor" in params else {}
    begin = time.perf_counter()
    result = run_audit(**kwargs)
    seconds = time.perf_counter() - begin
    detail = ""
    if hasattr(result, "checked"):
        detail = f"  checked {result.checked}, failed {getattr(result, 'failed', '?')}"
    table.add("configuration audit (all CIs)", f"{seconds:.1f} s{detail}", _verdict(seconds, 30.0))


def import_workbook(estate: Estate, rows: int) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("CIs")
    sheet.append(
        [
            "name",
            "customer",
            "type",
            "status",
            "environment",
            "criticality",
            "hostname",
            "ip_addresses",
            "vendor",
            "model",
            "serial_number",
            "warranty_end",
            "tags",
            "attr:cpu_count",
            "attr:memory_gb",
            "attr:os",
        ]
    )
    for n in range(rows):
        server = n % 4 == 0
        name = f"imp-{'srv' if server else 'vm'}-{n:06d}"
        sheet.append(
            [
                name,
                estate.customer_codes[0],
                "server" if server else "virtual_machine",
                "in_use",
                "production" if n % 5 else "test",
                3,
                name,
                f"10.250.{n // 250}.{n % 250 + 1}",
                "浪潮 Inspur" if server else "",
                "NF5280M6" if server else "",
                f"IMP{n:08d}" if server else "",
                "2028-06-30" if server else "",
                estate.tag_names[n % len(estate.tag_names)] if n % 3 == 0 else "",
                64 if server else 8,
                256 if server else 16,
                "银河麒麟 Kylin V10",
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def measure_import(estate: Estate, table: Table) -> None:
    try:
        from opsassure.cmdb.importing import import_file  # type: ignore[import-not-found]
    except ImportError:
        table.add(f"import {IMPORT_ROWS:,}-row XLSX", "n/a (not on main yet)")
        return
    data = import_workbook(estate, IMPORT_ROWS)
    begin = time.perf_counter()
    report = import_file(
        actor=estate.personas["engineer"], data=data, filename="bench.xlsx", dry_run=False
    )
    seconds = time.perf_counter() - begin
    errors = getattr(report, "errors", [])
    outcome = f"created {getattr(report, 'created', '?')}" if not errors else f"{errors[:2]}"
    table.add(
        f"import {IMPORT_ROWS:,}-row XLSX", f"{seconds:.1f} s  {outcome}", _verdict(seconds, 60.0)
    )


def database_size(data_dir: str) -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            size = cursor.fetchone()[0]
    else:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = (Path(data_dir) / "opsassure.sqlite3").stat().st_size
    return f"{size / 2**20:,.0f} MiB"


def run_engine(engine: str, args: argparse.Namespace) -> None:
    data_dir = tempfile.mkdtemp(prefix="opsassure-bench-cmdb-")
    rng = random.Random(20240611)
    try:
        with contextlib.ExitStack() as stack:
            url = stack.enter_context(scratch_postgres()) if engine == "postgres" else None
            setup_django(data_dir, url)
            from django.db import connection

            version = (
                f"{connection.pg_version // 10000}.{connection.pg_version % 10000}" if url else ""
            )
            print(
                f"\n== CMDB benchmark: {engine} {version}, {args.cis:,} CIs, "
                f"{args.relations:,} relations, {os.cpu_count()} CPUs, "
                f"Python {sys.version.split()[0]}",
                flush=True,
            )
            table = Table()
            started = time.perf_counter()
            table.add("load average at start (1/5/15 min)", _load())
            begin = time.perf_counter()
            estate = generate(args.cis, args.relations, rng, progress=table.add)
            table.add("generation total", f"{time.perf_counter() - begin:.1f} s")
            table.add("database size", database_size(data_dir))
            measure_lists(estate, table, rng, args.requests)
            measure_impact(estate, table, rng)
            measure_audit(estate, table)
            measure_import(estate, table)
            table.add("load average at end (1/5/15 min)", _load())
            table.add(f"{engine} run, wall", f"{(time.perf_counter() - started) / 60:.1f} min")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cis", type=int, default=None)
    parser.add_argument("--relations", type=int, default=None)
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default=None)
    parser.add_argument("--quick", action="store_true", help="10,000 CIs, a smoke run")
    parser.add_argument("--requests", type=int, default=LIST_REQUESTS, help="per list query kind")
    args = parser.parse_args()
    args.cis = args.cis or (10_000 if args.quick else 100_000)
    args.relations = args.relations or args.cis * 3
    if args.engine is None:
        args.engine = "both" if pg_reachable() else "sqlite"
    if args.engine != "both":
        run_engine(args.engine, args)
        return 0
    # Django configures one database per process: run each engine in its own.
    started = time.perf_counter()
    for engine in ("sqlite", "postgres"):
        command = [sys.executable, __file__, "--engine", engine]
        command += ["--cis", str(args.cis), "--relations", str(args.relations)]
        command += ["--requests", str(args.requests)]
        result = subprocess.run(command, check=False)
        if result.returncode != 0:
            print(f"{engine} run failed (exit {result.returncode})", file=sys.stderr)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"\nwhole benchmark: {(time.perf_counter() - started) / 60:.1f} min wall, "
        f"{(usage.ru_utime + usage.ru_stime) / 60:.1f} min CPU in the benchmark processes "
        "(PostgreSQL's own CPU not included)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
