"""Alert ingest: durable alerts/s through the Alertmanager endpoint, and arrival → notification.

    .venv/bin/python bench/ingest.py [--engine sqlite|postgres|both] [--seconds 20]
                                     [--senders 8] [--batch 100] [--web-workers 2]
                                     [--latency-alerts 1000] [--worker-processes 4]
                                     [--no-alertmanager]

For each engine, in a fresh temporary OPSASSURE_DATA_DIR (PostgreSQL: a database
``opsassure_bench_<hex>`` created and dropped on OPSASSURE_BENCH_PG_URL, default
postgres://postgres@127.0.0.1:5432/postgres; broker: Redis on OPSASSURE_BENCH_REDIS_URL if it
answers, else the embedded filesystem broker):

1. **Throughput.** Starts the real web server (``opsassure web``: gunicorn, gthread) on a free
   loopback port and lets ``--senders`` threads post Alertmanager v4 webhooks of ``--batch``
   alerts each for ``--seconds``: each sender cycles through 250 pre-built bodies of distinct
   fingerprints, so the first 25,000 alerts of a sender are new and the rest repeat them. An
   alert counts when its request got a 2xx — which means its batch row, holding it, is
   committed. Prints alerts/s and the p50/p99 request latency. No worker runs in this phase.
   Then one process writes the staged alerts as alert rows, as a worker does first with each
   batch (``ingest.expand_waiting``), timed, and checks that every accepted alert is a row or
   one of a row's repeats.
2. **Alertmanager**, when /usr/bin/prometheus-alertmanager exists: the same load against its
   API v2 (in memory, no durability) and the ratio.
3. **Arrival → first notification** (p50/p95 over ``--latency-alerts`` alerts): one worker
   runs (``opsassure worker --concurrency N``: N = ``--worker-processes`` prefork processes
   serving every queue), a routing rule sends every new group to a webhook destination (a
   local fake endpoint); alerts arrive one per request, each a new group, at ``--latency-rate``
   alerts/s (default 10). For each group: ``Notification.sent_at`` − the batch's
   ``received_at`` (the request's arrival).

Every phase also prints its wall time, the CPU seconds spent in it by the web server (gunicorn
and its workers), the worker, the PostgreSQL backends serving our database (not the WAL
writer or checkpointer), the load generator itself and Alertmanager, and the 1-minute load
average at its start and end: the machine is shared, so CPU per alert is the steadier figure.
Exit code 0 unless the script itself broke.
"""

from __future__ import annotations

# bench/platform.py is named like the standard library's module: take the folder off the path.
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

import httpx  # noqa: E402

ROOT = _HERE.parent
PYTHON = sys.executable
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
HOST = "127.0.0.1"
PREBUILT = 250  # request bodies per sender


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def cpu_info() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0]
    return f"{model}, {os.cpu_count()} CPUs, load average {load:.2f} at start"


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def process_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system, with reaped children) of each live process."""
    out: dict[int, float] = {}
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = _stat(pid)
            out[pid] = sum(int(value) for value in fields[11:15]) / _TICK
    return out


def tree(root: int) -> list[int]:
    """``root`` and every live descendant."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                children.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """CPU seconds spent between ``start()`` and ``stop()`` by named process groups."""

    def __init__(self, groups: dict[str, Any]) -> None:
        self.groups = groups  # name → callable returning the pids to count
        self.before: dict[str, dict[int, float]] = {}
        self.wall = 0.0
        self.load: tuple[float, float] = (0.0, 0.0)
        self.spent: dict[str, float] = {}

    def _sample(self) -> dict[str, dict[int, float]]:
        return {name: process_cpu(list(pids())) for name, pids in self.groups.items()}

    def start(self) -> CpuMeter:
        self.before = self._sample()
        self.client = own_cpu()
        self.began = time.monotonic()
        self.load = (os.getloadavg()[0], 0.0)
        return self

    def stop(self) -> dict[str, Any]:
        after = self._sample()
        self.wall = time.monotonic() - self.began
        self.load = (self.load[0], os.getloadavg()[0])
        self.spent = {
            name: sum(cpu - self.before[name].get(pid, 0.0) for pid, cpu in sample.items())
            for name, sample in after.items()
        }
        self.spent["load generator"] = own_cpu() - self.client
        return {"wall_s": self.wall, "cpu_s": self.spent, "load": self.load}


def cpu_line(measured: dict[str, Any]) -> str:
    parts = ", ".join(f"{name} {cpu:.1f}" for name, cpu in measured["cpu_s"].items())
    before, after = measured["load"]
    return (
        f"wall {measured['wall_s']:.1f} s; CPU s: {parts} "
        f"(total {sum(measured['cpu_s'].values()):.1f}); load average {before:.2f} → {after:.2f}"
    )


def pg_backends(env: dict[str, str]) -> list[int]:
    """PIDs of the PostgreSQL backends connected to the bench database (same machine)."""
    url = env.get("OPSASSURE_DATABASE_URL", "")
    if not url:
        return []
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(
        os.environ.get("OPSASSURE_BENCH_PG_URL", DEFAULT_PG_URL), autocommit=True
    ) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchall()
    return [int(row[0]) for row in rows]


def redis_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or HOST, parts.port or 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def environment(engine: str) -> Iterator[dict[str, str]]:
    data_dir = tempfile.mkdtemp(prefix=f"opsassure-bench-ingest-{engine}-")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OPSASSURE_") or k.startswith("OPSASSURE_BENCH")
    }
    env.update(OPSASSURE_DATA_DIR=data_dir, DJANGO_SETTINGS_MODULE="opsassure.settings")
    env["PYTHONUNBUFFERED"] = "1"
    redis_url = os.environ.get("OPSASSURE_BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    if engine == "postgres" and redis_answers(redis_url):
        env["OPSASSURE_BROKER_URL"] = redis_url
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
        if os.environ.get("OPSASSURE_BENCH_KEEP"):
            print(f"  (kept {data_dir})")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def manage_shell(env: dict[str, str], code: str) -> str:
    result = subprocess.run(
        [PYTHON, "-m", "opsassure", "manage", "shell", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return result.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2, trust_env=False).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s")


def am_batch(sender: int, number: int, size: int, stamp: str) -> bytes:
    alerts = [
        {
            "status": "firing",
            "labels": {
                "alertname": "BenchAlert",
                "instance": f"host-{sender}-{number}-{i}:9100",
                "job": "node",
                "severity": "warning",
            },
            "annotations": {"summary": f"bench {sender}/{number}/{i}"},
            "startsAt": stamp,
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": f"{sender:02x}{number:08x}{i:04x}",
        }
        for i in range(size)
    ]
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="BenchAlert",sender="{sender}"}}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "opsassure",
            "groupLabels": {"alertname": "BenchAlert"},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "alerts": alerts,
        }
    ).encode()


def v2_batch(sender: int, number: int, size: int, stamp: str) -> bytes:
    alerts = [
        {
            "labels": {
                "alertname": "BenchAlert",
                "instance": f"host-{sender}-{number}-{i}:9100",
                "job": "node",
                "severity": "warning",
            },
            "annotations": {"summary": f"bench {sender}/{number}/{i}"},
            "startsAt": stamp,
            "generatorURL": "http://prometheus:9090/graph",
        }
        for i in range(size)
    ]
    return json.dumps(alerts).encode()


def load(
    url: str, build: Any, senders: int, size: int, seconds: float, meter: CpuMeter | None = None
) -> dict[str, Any]:
    """``senders`` threads post pre-built bodies for ``seconds``; returns counts and latencies
    (and, with ``meter``, the CPU spent while they post)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    latencies: list[float] = []
    counts = {"ok": 0, "failed": 0}
    lock = threading.Lock()

    # Bodies are built before the clock starts (the client shares the machine's two cores);
    # a sender that runs out starts over (repeats: updates instead of inserts).
    bodies = [[build(sender, n, size, stamp) for n in range(PREBUILT)] for sender in range(senders)]
    if meter is not None:
        meter.start()
    stop = time.monotonic() + seconds

    def run(sender: int) -> None:
        own: list[float] = []
        ok = failed = 0
        number = 0
        with httpx.Client(timeout=30, trust_env=False) as client:
            while time.monotonic() < stop:
                body = bodies[sender][number % PREBUILT]
                number += 1
                begin = time.perf_counter()
                try:
                    response = client.post(
                        url, content=body, headers={"Content-Type": "application/json"}
                    )
                    good = 200 <= response.status_code < 300
                except httpx.HTTPError:
                    good = False
                own.append(time.perf_counter() - begin)
                ok, failed = (ok + 1, failed) if good else (ok, failed + 1)
        with lock:
            latencies.extend(own)
            counts["ok"] += ok
            counts["failed"] += failed

    begin = time.monotonic()
    threads = [threading.Thread(target=run, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - begin
    return {
        "cpu": meter.stop() if meter is not None else None,
        "alerts_per_s": counts["ok"] * size / elapsed,
        "requests": counts["ok"],
        "failed": counts["failed"],
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


SETUP = (
    "from opsassure.alerting.models import Integration, RoutingRule; "
    "from opsassure.core.models import Customer; "
    "from opsassure.notify.models import Destination; "
    "c, _ = Customer.objects.get_or_create(code='BENCH', defaults={'name': 'Bench'}); "
    "i = Integration.objects.create(name='bench', kind='alertmanager', customer=c, "
    "rate_limit_per_minute=0, default_action='record'); "
    "lat = Integration.objects.create(name='latency', kind='alertmanager', customer=c, "
    "rate_limit_per_minute=0, default_action='record'); "
    "d = Destination.objects.create(customer=c, name='sink', kind='webhook', url='SINK', "
    "rate_limit_per_minute=0); "
    "RoutingRule.objects.create(name='notify', integration=lat, action='notify', destination=d); "
    "print(i.token + ' ' + lat.token)"
)

LATENCY = (
    "import json; from django.db.models import Min; "
    "from opsassure.alerting.models import AlertGroup, Alert; "
    "from opsassure.notify.models import Notification; "
    "groups = AlertGroup.objects.filter(integration__name='latency', title__startswith='Latency'); "
    "sent = dict(Notification.objects"
    ".filter(source_type='alerting.alertgroup', sent_at__isnull=False)"
    ".values_list('source_id').annotate(first=Min('sent_at')).values_list('source_id', 'first')); "
    "arrived = {str(g): t for g, t in Alert.objects"
    ".filter(integration__name='latency', alertname__startswith='Latency')"
    ".values_list('group_id').annotate(t=Min('batch__received_at')).values_list('group_id', 't')}; "
    "print(json.dumps({'groups': groups.count(), 'delays': [(sent[k] - arrived[k]).total_seconds() "
    "for k in arrived if k in sent]}))"
)


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


def latency_phase(
    env: dict[str, str],
    base: str,
    token: str,
    args: argparse.Namespace,
    log: Path,
    web_pid: int,
) -> dict[str, Any]:
    url = f"{base}/api/v1/alerting/ingest/{token}/"
    alerts, rate = args.latency_alerts, args.latency_rate
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    argv = [PYTHON, "-m", "opsassure", "worker", "--concurrency", str(args.worker_processes)]
    with process(argv, env, log) as worker:
        with httpx.Client(timeout=30, trust_env=False) as client:
            # Warm-up: one alert whose notification proves the worker is up (not measured).
            warmup = {
                "version": "4",
                "status": "firing",
                "alerts": [{"status": "firing", "labels": {"alertname": "Warmup"}}],
            }
            client.post(url, json=warmup)
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                sent = manage_shell(
                    env,
                    "from opsassure.notify.models import Notification; "
                    "print(Notification.objects.filter(sent_at__isnull=False).count())",
                )
                if int(sent):
                    break
                time.sleep(1)
            groups: dict[str, Any] = {
                "web": lambda: tree(web_pid),
                "worker": lambda: tree(worker.pid),
            }
            if "OPSASSURE_DATABASE_URL" in env:
                groups["postgres"] = lambda: pg_backends(env)
            meter = CpuMeter(groups).start()
            begin = time.monotonic()
            for number in range(alerts):
                body = {
                    "version": "4",
                    "status": "firing",
                    "receiver": "opsassure",
                    "alerts": [
                        {
                            "status": "firing",
                            "startsAt": stamp,
                            "labels": {"alertname": f"Latency{number}", "instance": "lat:9100"},
                            "annotations": {"summary": "latency probe"},
                        }
                    ],
                }
                response = client.post(url, json=body)
                if response.status_code != 200:
                    raise RuntimeError(f"latency alert refused: {response.status_code}")
                pause = begin + (number + 1) / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
        deadline = time.monotonic() + 300
        result: dict[str, Any] = {}
        while time.monotonic() < deadline:
            result = json.loads(manage_shell(env, LATENCY))
            if len(result["delays"]) >= alerts:
                break
            time.sleep(3)
        measured = meter.stop()
    delays = result.get("delays", [])
    return {
        "cpu": measured,
        "processes": args.worker_processes,
        "groups": result.get("groups", 0),
        "notified": len(delays),
        "p50_s": percentile(delays, 50),
        "p95_s": percentile(delays, 95),
    }


# Writes every staged alert as an alert row, as the workers would (``ingest.expand_waiting``),
# and prints: the alerts the staged batches held, the alert rows then, the alerts those rows
# account for (one each plus its repeats: the senders' bodies cycle, so most alerts are repeats
# of a row), wall seconds, this process's CPU seconds and its database backend's (PostgreSQL; 0
# on SQLite, which runs inside the process).
EXPAND = """
import resource, time
from pathlib import Path
from django.db import connection
from django.db.models import Count, Sum
from opsassure.alerting import ingest
from opsassure.alerting.models import Alert, IngestBatch

def backend_cpu(pid):
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:13]) / 100

pid = 0
if connection.vendor == "postgresql":
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
staged = IngestBatch.objects.filter(integration__name="bench", expanded_at__isnull=True)
held = staged.aggregate(n=Sum("alert_count"))["n"] or 0
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu, db, t = usage.ru_utime + usage.ru_stime, backend_cpu(pid), time.monotonic()
ingest.expand_waiting()
t = time.monotonic() - t
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu, db = usage.ru_utime + usage.ru_stime - cpu, backend_cpu(pid) - db
bench = Alert.objects.filter(integration__name="bench")
rows = bench.aggregate(n=Count("id"), r=Sum("repeat_count"))
print(held, rows["n"], rows["n"] + (rows["r"] or 0), t, cpu, db)
"""


def bench_engine(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    with environment(engine) as env:
        logdir = Path(env["OPSASSURE_DATA_DIR"])
        subprocess.run(
            [PYTHON, "-m", "opsassure", "setup"],
            env=env,
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        sink = ThreadingHTTPServer((HOST, 0), Sink)
        threading.Thread(target=sink.serve_forever, daemon=True).start()
        sink_url = f"http://{HOST}:{sink.server_address[1]}/hook"
        tokens = manage_shell(env, SETUP.replace("SINK", sink_url)).split()
        port = free_port()
        web = [
            PYTHON,
            "-m",
            "opsassure",
            "web",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(args.web_workers),
            "--no-collect-static",
        ]
        result: dict[str, Any] = {
            "engine": engine,
            "broker": env.get("OPSASSURE_BROKER_URL", "filesystem"),
        }
        with process(web, env, logdir / "web.log") as server:
            base = f"http://{HOST}:{port}"
            wait_http(f"{base}/healthz")
            url = f"{base}/api/v1/alerting/ingest/{tokens[0]}/"
            warm_up = load(url, am_batch, 2, args.batch, 3)
            groups: dict[str, Any] = {"web": lambda: tree(server.pid)}
            if engine == "postgres":
                groups["postgres"] = lambda: pg_backends(env)
            meter = CpuMeter(groups)
            result["ingest"] = load(url, am_batch, args.senders, args.batch, args.seconds, meter)
            # The requests committed batch rows with their alerts staged; a worker writes the
            # alert rows. Do that here in one process, timed, and count the rows it wrote.
            expanded = manage_shell(env, EXPAND).split()
            result["expand"] = {
                "alerts": int(expanded[0]),
                "rows": int(expanded[1]),
                "accounted": int(expanded[2]),
                "accepted": (warm_up["requests"] + result["ingest"]["requests"]) * args.batch,
                "wall_s": float(expanded[3]),
                "python_cpu_s": float(expanded[4]),
                "db_cpu_s": float(expanded[5]),
            }
            # The throughput phase's batches are not part of the latency phase: mark them
            # processed so the worker's claims on them return at once.
            manage_shell(
                env,
                "from django.utils import timezone; "
                "from opsassure.alerting.models import IngestBatch; "
                "print(IngestBatch.objects.filter(integration__name='bench')"
                ".update(processed_at=timezone.now()))",
            )
            subprocess.run(
                [
                    PYTHON,
                    "-m",
                    "celery",
                    "-A",
                    "opsassure",
                    "purge",
                    "-f",
                    "-Q",
                    "alerts,notify,automation,reports,default",
                ],
                env=env,
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if args.latency_alerts:
                result["latency"] = latency_phase(
                    env, base, tokens[1], args, logdir / "worker.log", server.pid
                )
        sink.shutdown()
        return result


def bench_alertmanager(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.no_alertmanager or not Path(ALERTMANAGER).exists():
        return None
    workdir = Path(tempfile.mkdtemp(prefix="opsassure-bench-am-"))
    config = workdir / "am.yml"
    config.write_text("route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n")
    port = free_port()
    argv = [
        ALERTMANAGER,
        f"--config.file={config}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address={HOST}:{port}",
        "--cluster.listen-address=",
    ]
    try:
        with process(argv, dict(os.environ), workdir / "am.log") as manager:
            wait_http(f"http://{HOST}:{port}/-/ready")
            url = f"http://{HOST}:{port}/api/v2/alerts"
            load(url, v2_batch, 2, args.batch, 3)
            meter = CpuMeter({"alertmanager": lambda: tree(manager.pid)})
            return load(url, v2_batch, args.senders, args.batch, args.seconds, meter)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def postgres_answers() -> bool:
    try:
        import psycopg

        with psycopg.connect(
            os.environ.get("OPSASSURE_BENCH_PG_URL", DEFAULT_PG_URL), connect_timeout=3
        ):
            return True
    except Exception:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--latency-alerts", type=int, default=1000)
    parser.add_argument("--latency-rate", type=float, default=10.0, help="alerts/s, each a group")
    parser.add_argument(
        "--worker-processes", type=int, default=4, help="prefork processes of the one worker"
    )
    parser.add_argument("--no-alertmanager", action="store_true")
    args = parser.parse_args()
    engines = {"sqlite": ["sqlite"], "postgres": ["postgres"], "both": ["sqlite", "postgres"]}.get(
        args.engine, ["sqlite", "postgres"] if postgres_answers() else ["sqlite"]
    )
    print(f"machine: {cpu_info()}")
    print(
        f"load: {args.senders} senders × {args.batch} alerts/request for {args.seconds:.0f} s, "
        f"web: gunicorn {args.web_workers} processes × 8 threads"
    )
    results = [bench_engine(engine, args) for engine in engines]
    manager = bench_alertmanager(args)
    for result in results:
        ingest = result["ingest"]
        print(f"\n== {result['engine']} (broker {result['broker']})")
        print(
            f"  accepted: {ingest['alerts_per_s']:,.0f} alerts/s durable "
            f"({ingest['requests']} requests, {ingest['failed']} failed), "
            f"latency p50 {ingest['p50_ms']:.1f} ms, p99 {ingest['p99_ms']:.1f} ms"
        )
        print(f"    {cpu_line(ingest['cpu'])}")
        written = result["expand"]
        print(
            f"  then written by one process (a worker's first step): {written['alerts']:,} "
            f"alerts in {written['wall_s']:.1f} s "
            f"({written['alerts'] / max(written['wall_s'], 1e-9):,.0f} alerts/s) into "
            f"{written['rows']:,} alert rows; CPU s: python {written['python_cpu_s']:.1f}, "
            f"database {written['db_cpu_s']:.1f}"
        )
        # Every accepted alert (warm-up included) is a row or one of a row's repeats.
        verdict = "all" if written["accounted"] == written["accepted"] else "MISMATCH:"
        print(
            f"    {verdict} {written['accepted']:,} accepted alerts accounted for by the rows "
            f"and their repeat counts ({written['accounted']:,})"
        )
        if manager:
            print(
                f"  vs Alertmanager: {ingest['alerts_per_s'] / manager['alerts_per_s']:.2f} × "
                f"its rate"
            )
        if "latency" in result:
            lat = result["latency"]
            print(
                f"  arrival → notification sent at {args.latency_rate:g} new groups/s, "
                f"1 worker × {lat['processes']} processes: p50 {lat['p50_s']:.2f} s, "
                f"p95 {lat['p95_s']:.2f} s ({lat['notified']} of {lat['groups']} groups notified)"
            )
            cpu_total = sum(lat["cpu"]["cpu_s"].values())
            print(
                f"    {cpu_line(lat['cpu'])}; "
                f"{1000 * cpu_total / max(1, lat['notified']):.0f} ms CPU per group"
            )
    if manager:
        print(
            f"\n== Alertmanager 0.25 (in memory, API v2): {manager['alerts_per_s']:,.0f} alerts/s, "
            f"p50 {manager['p50_ms']:.1f} ms, p99 {manager['p99_ms']:.1f} ms"
        )
        print(f"    {cpu_line(manager['cpu'])}")


if __name__ == "__main__":
    main()
