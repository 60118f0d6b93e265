"""Service desk at scale: queue lists, a customer's monthly KPIs, the breach sweep, deadlines.

    .venv/bin/python bench/tickets.py [--tickets N] [--open N] [--engine sqlite|postgres|both]
                                      [--quick] [--requests 200]

Writes a ticket history with bulk inserts (``bench/lib/ticket_load.py``: 8 customers, the
biggest with 30 % of the tickets; SLA clocks, ratings, assignment events), then measures
through the real code paths:

* the queue lists of ``/api/v1/servicedesk/tickets/`` as an engineer (a team serving three
  customers): "my team's open tickets", "breaching soon", "my open tickets", "unassigned" —
  p50/p95 over N requests each (goal p95 < 200 ms);
* the monthly KPI set of the biggest customer (``servicedesk.kpi.compute_kpis``, overall and
  by priority, and the API ``/api/v1/servicedesk/kpis/``) for last month (goal < 2 s);
* the breach sweep (``servicedesk.sla.sweep``) with the open tickets' clocks, 1 % of them due
  (goal < 5 s), then once more with nothing due;
* SLA deadline computation on one core with the 5×8 calendar and mainland-China holidays:
  ``sla.plan_clocks`` (the start-clocks path: targets, response/arrival/resolution deadlines
  and warning instants, the unsaved clock rows) per ticket with the policy read once
  (goal ≥ 20,000 tickets/s); for comparison with a fresh policy per ticket (two target
  queries each) and the bare calendar walk.

Defaults: 100,000 tickets on SQLite, 1,000,000 on PostgreSQL; open tickets: half of the
tickets, at most 100,000. Each engine runs in its own process with its own temporary
OPSASSURE_DATA_DIR; PostgreSQL (``OPSASSURE_BENCH_PG_URL``, default
postgres://postgres@127.0.0.1:5432/postgres) gets its own database ``opsassure_bench_<hex>``,
dropped afterwards. Figures are printed; the exit code is 0 unless the script itself broke.
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
import datetime as dt  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

from ticket_load import History, generate  # noqa: E402

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"
GOALS = {"queue": 200.0, "kpi": 2.0, "sweep": 5.0, "deadlines": 20_000.0}


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


@contextlib.contextmanager
def scratch_postgres() -> Iterator[str]:
    """A fresh database on the benchmark server, dropped afterwards whatever happens."""
    import psycopg

    name = f"opsassure_bench_{secrets.token_hex(4)}"
    with psycopg.connect(pg_base_url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        parts = urlsplit(pg_base_url())
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
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
    os.environ["OPSASSURE_API_RATE_USER"] = "1000/s"  # see bench/cmdb.py
    if database_url:
        os.environ["OPSASSURE_DATABASE_URL"] = database_url
    else:
        os.environ.pop("OPSASSURE_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "opsassure.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class Table:
    def add(self, what: str, figure: str, goal: str = "") -> None:
        print(f"  {what:<52} {figure:<50} {goal}", flush=True)


def _load() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def _under(value: float, goal: float) -> str:
    return f"goal < {goal:g}: {'ok' if value < goal else 'MISSED'}"


# --- measurements ----------------------------------------------------------------------------


def measure_queues(history: History, table: Table, requests: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    engineer = history.personas["engineer"]
    team = engineer.teams.order_by("pk").first()
    queues = {
        "my team's open tickets": f"team={team.pk}&open=true",
        "breaching soon": "breaching_soon=true",
        "my team, breaching soon": f"team={team.pk}&breaching_soon=true",
        "my open tickets": f"assignee={engineer.pk}&open=true",
        "unassigned open": "unassigned=true&open=true",
    }
    client = Client()
    client.force_login(engineer)
    for label, query in queues.items():
        url = f"/api/v1/servicedesk/tickets/?{query}&page_size=50&ordering=resolution_due"
        response = client.get(url)  # warm-up
        if response.status_code != 200:
            table.add(f"queue {label}", f"HTTP {response.status_code}")
            continue
        total = response.json().get("count")
        timings, cpu = [], []
        for _n in range(requests):
            began, began_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            timings.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        p95 = percentile(timings, 95)
        table.add(
            f"queue API: {label}",
            f"p50 {percentile(timings, 50):4.0f} p95 {p95:4.0f} "
            f"cpu95 {percentile(cpu, 95):4.0f} ms "
            f"{len(captured)}q "
            f"{total:,} rows",
            _under(p95, GOALS["queue"]),
        )


def measure_kpis(history: History, table: Table) -> None:
    from django.test import Client

    from opsassure.servicedesk import kpi

    zone = dt.timezone(dt.timedelta(hours=8))
    today = dt.datetime.now(zone).date()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    start, end = kpi.month_period(last_month, zone)
    customer = history.customers[0]
    manager = history.personas["manager"]
    for label, group_by in (("overall", None), ("by priority", "priority")):
        flt = kpi.KpiFilter(
            start=start, end=end, zone=zone, customer_id=customer.pk, group_by=group_by
        )
        timings = []
        for _n in range(5):
            began = time.perf_counter()
            result = kpi.compute_kpis(manager, flt)
            timings.append(time.perf_counter() - began)
        worst = max(timings)
        overall = result["overall"]
        table.add(
            f"monthly KPI set, biggest customer, {label}",
            f"median {sorted(timings)[2]:.2f}  max {worst:.2f} s  "
            f"({overall['received']:,} received, {overall['resolved']:,} resolved)",
            _under(worst, GOALS["kpi"]),
        )
    client = Client()
    client.force_login(manager)
    url = f"/api/v1/servicedesk/kpis/?customer={customer.pk}&month={last_month:%Y-%m}"
    client.get(url)
    began = time.perf_counter()
    response = client.get(f"{url}&group_by=priority")
    seconds = time.perf_counter() - began
    table.add(
        "KPI API, biggest customer, by priority",
        f"{seconds:.2f} s  HTTP {response.status_code}",
        _under(seconds, GOALS["kpi"]),
    )
    customer_admin = history.personas["customer admin"]
    client.force_login(customer_admin)
    began = time.perf_counter()
    response = client.get(f"/api/v1/servicedesk/kpis/?month={last_month:%Y-%m}")
    seconds = time.perf_counter() - began
    table.add(
        "KPI API as the customer's admin", f"{seconds:.2f} s  HTTP {response.status_code}", ""
    )


def measure_sweep(history: History, table: Table) -> None:
    from opsassure.servicedesk import sla
    from opsassure.servicedesk.models import SlaClock

    now = dt.datetime.now(dt.UTC)
    due = SlaClock.objects.filter(state="running", next_check_at__lte=now).count()
    began, began_cpu = time.perf_counter(), time.process_time()
    result = sla.sweep(now)
    seconds = time.perf_counter() - began
    table.add(
        f"breach sweep, {history.open_tickets:,} open tickets",
        f"{seconds:.1f} s (cpu {time.process_time() - began_cpu:.1f})  {due:,} due, "
        f"{len(result.fired):,} fired",
        _under(seconds, GOALS["sweep"]),
    )
    began = time.perf_counter()
    result = sla.sweep(now)
    seconds = time.perf_counter() - began
    table.add("breach sweep again (nothing due)", f"{seconds * 1000:.0f} ms", "")


def measure_deadlines(table: Table, count: int, rng: random.Random) -> None:
    """``sla.plan_clocks`` on one core (CPU time): the goal is measured on the planning path
    with the policy read once (a batch or an import; the targets memo on the policy
    instance), and shown for comparison with a fresh policy per ticket (two target queries
    each, what one web request costs) and the bare calendar walk (``sla.plan_deadlines``)."""
    import copy

    from opsassure.catalog.models import SlaPolicy
    from opsassure.catalog.queries import business_calendar
    from opsassure.servicedesk import sla
    from opsassure.servicedesk.models import Ticket

    policy = SlaPolicy.objects.select_related("calendar").filter(is_default=True).first()
    assert policy is not None
    assert policy.calendar.code == "5x8"
    origin = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    span = 330 * 86400  # 2026, whose holidays and 调休 days the calendar holds
    priorities = [rng.choice([1, 2, 3, 4]) for _ in range(count)]
    starts = [origin + dt.timedelta(seconds=rng.randrange(span)) for _ in range(count)]
    sla.plan_clocks(Ticket(sla_policy=policy, priority=1), now=starts[0])  # engine, year tables

    def rate_of(label: str, run: Any, n: int, goal: bool) -> None:
        began = time.process_time()
        clocks = run(n)
        seconds = time.process_time() - began
        rate = n / seconds
        verdict = ""
        if goal:
            ok = "ok" if rate >= GOALS["deadlines"] else "MISSED"
            verdict = f"goal ≥ {GOALS['deadlines']:,.0f}/s: {ok}"
        table.add(
            f"deadlines 5×8+holidays: {label}",
            f"{rate:,.0f} tickets/s ({clocks / n:.1f} clocks each, CPU)",
            verdict,
        )

    # The tickets exist before their clocks are planned (services.create_ticket builds the
    # ticket, then plans): building them is not part of the figure.
    tickets = [
        Ticket(customer_id=policy.customer_id, sla_policy=policy, priority=priority)
        for priority in priorities
    ]

    def planned(n: int) -> int:
        clocks = 0
        for ticket, start in zip(tickets[:n], starts[:n], strict=True):
            clocks += len(sla.plan_clocks(ticket, now=start))
        return clocks

    def fresh_policy(n: int) -> int:
        clocks = 0
        for ticket, start in zip(tickets[:n], starts[:n], strict=True):
            own = copy.copy(policy)
            own.__dict__.pop(sla._TARGETS_MEMO, None)  # as if read by this request
            ticket.sla_policy = own
            clocks += len(sla.plan_clocks(ticket, now=start))
            ticket.sla_policy = policy
        return clocks

    minutes = {1: [15, 120, 240], 2: [30, 240, 480], 3: [120, 480, 1440], 4: [480, 2400]}

    def walk_only(n: int) -> int:
        engine = business_calendar(policy.calendar)
        clocks = 0
        for priority, start in zip(priorities[:n], starts[:n], strict=True):
            clocks += len(sla.plan_deadlines(engine, start, minutes[priority], (75, 90)))
        return clocks

    rate_of("sla.plan_clocks, policy read once", planned, count, goal=True)
    rate_of("  the same, a fresh policy per ticket", fresh_policy, min(count, 5_000), goal=False)
    rate_of("  calendar walk only (sla.plan_deadlines)", walk_only, count, goal=False)


def database_size(data_dir: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            size = cursor.fetchone()[0]
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            size = (Path(data_dir) / "opsassure.sqlite3").stat().st_size
    return f"{size / 2**20:,.0f} MiB"


def run_engine(engine: str, args: argparse.Namespace) -> None:
    data_dir = tempfile.mkdtemp(prefix="opsassure-bench-tickets-")
    rng = random.Random(20261127)
    try:
        with contextlib.ExitStack() as stack:
            url = stack.enter_context(scratch_postgres()) if engine == "postgres" else None
            setup_django(data_dir, url)
            from django.db import connection

            version = f" {connection.pg_version // 10000}" if url else ""
            print(
                f"\n== service-desk benchmark: {engine}{version}, {args.tickets:,} tickets "
                f"({args.open:,} open), {os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
                flush=True,
            )
            table = Table()
            started = time.perf_counter()
            table.add("load average at start (1/5/15 min)", _load())
            began, began_cpu = time.perf_counter(), time.process_time()
            history = generate(args.tickets, args.open, rng, table.add)
            table.add(
                "generation total",
                f"{time.perf_counter() - began:.1f} s (cpu {time.process_time() - began_cpu:.1f}"
                " s in this process; the database server's not counted)",
            )
            table.add("database size", database_size(data_dir))
            measure_deadlines(table, args.deadlines, rng)
            measure_queues(history, table, args.requests)
            measure_kpis(history, table)
            measure_sweep(history, table)
            table.add("load average at end (1/5/15 min)", _load())
            table.add(f"{engine} run, wall", f"{(time.perf_counter() - started) / 60:.1f} min")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=None)
    parser.add_argument("--open", type=int, default=None, help="open tickets (default: half)")
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default=None)
    parser.add_argument("--quick", action="store_true", help="10,000 tickets, a smoke run")
    parser.add_argument("--requests", type=int, default=None, help="per queue")
    parser.add_argument("--deadlines", type=int, default=None, help="tickets to plan clocks for")
    args = parser.parse_args()
    args.requests = args.requests or (30 if args.quick else 200)
    args.deadlines = args.deadlines or (5_000 if args.quick else 50_000)
    if args.engine is None:
        args.engine = "both" if pg_reachable() else "sqlite"
    if args.engine != "both":
        default = 10_000 if args.quick else 1_000_000 if args.engine == "postgres" else 100_000
        args.tickets = args.tickets or default
        args.open = args.open if args.open is not None else min(100_000, args.tickets // 2)
        run_engine(args.engine, args)
        return 0
    for engine in ("sqlite", "postgres"):  # Django configures one database per process
        command = [sys.executable, __file__, "--engine", engine]
        command += ["--requests", str(args.requests), "--deadlines", str(args.deadlines)]
        if args.quick:
            command.append("--quick")
        if args.tickets:
            command += ["--tickets", str(args.tickets)]
        if args.open is not None:
            command += ["--open", str(args.open)]
        result = subprocess.run(command, check=False)
        if result.returncode != 0:
            print(f"{engine} run failed (exit {result.returncode})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
