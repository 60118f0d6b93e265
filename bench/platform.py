"""Platform benchmark: start-up, idle memory, request latency and shutdown of ``opsassure run``.

    .venv/bin/python bench/platform.py

Starts the real all-in-one system on a free 127.0.0.1 port with a fresh temporary data
directory (SQLite + filesystem broker, or PostgreSQL/Redis when OPSASSURE_DATABASE_URL /
OPSASSURE_BROKER_URL are set in the environment), then measures:

* time to /healthz and /readyz, first start (migrate + demo data) and second start (same data);
* idle RSS of the whole process tree (supervisor + every descendant) after 20 s idle;
* p50/p95/p99 latency of 300 sequential GETs of /api/v1/customers/ and of the dashboard /,
  logged in as the demo manager (session cookie);
* shutdown time after SIGINT (Ctrl-C) and whether any child process was left behind.

Every wait is bounded; the script always cleans up its processes and temporary directory.
"""

from __future__ import annotations

# This file is named like the standard library's ``platform`` module: drop its folder from the
# import path before anything imports ``platform`` and finds this script instead.
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import contextlib  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402
import psutil  # noqa: E402

HOST = "127.0.0.1"
READY_TIMEOUT = 180.0
STOP_TIMEOUT = 40.0
IDLE_SECONDS = 20.0
REQUESTS = 300
DEMO_PASSWORD = "opsassure-demo"
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Run:
    """One ``opsassure run`` in its own process group, output to a log file."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log_path = log_path
        env = {k: v for k, v in os.environ.items() if k != "OPSASSURE_TESTING"}
        env["OPSASSURE_DATA_DIR"] = str(data_dir)
        env["PYTHONUNBUFFERED"] = "1"
        self.started = time.monotonic()
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "opsassure",
                    "run",
                    "--host",
                    HOST,
                    "--port",
                    str(self.port),
                ],
                env=env,
                cwd=data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.collected: list[psutil.Process] = []

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def wait_for(self, path: str) -> float:
        deadline = self.started + READY_TIMEOUT
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"opsassure run exited ({self.process.returncode}):\n" + self.tail()
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}{path}").status_code == 200:
                        return time.monotonic() - self.started
                time.sleep(0.1)
        raise RuntimeError(f"{path} not ready after {READY_TIMEOUT:.0f} s:\n{self.tail()}")

    def tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss_mib(self) -> tuple[float, int]:
        total = 0
        procs = self.tree()
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total / 2**20, len(procs)

    def stop(self) -> tuple[float, list[str]]:
        self.collected = self.tree()[1:]
        begin = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_TIMEOUT)
        while time.monotonic() - begin < STOP_TIMEOUT and self.leftovers():
            time.sleep(0.05)
        return time.monotonic() - begin, self.leftovers()

    def leftovers(self) -> list[str]:
        left = [] if self.process.poll() is not None else [f"supervisor {self.process.pid}"]
        for proc in self.collected:
            with contextlib.suppress(psutil.Error):
                if proc.is_running():
                    left.append(f"{proc.pid} [{proc.status()}]")
        return left

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for proc in [*self.collected, *self.tree()]:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


def login(client: httpx.Client, base: str) -> None:
    page = client.get(f"{base}/login/")
    token = CSRF_RE.search(page.text)
    if not token:
        raise RuntimeError("no CSRF token on /login/")
    response = client.post(
        f"{base}/login/",
        data={
            "csrfmiddlewaretoken": token.group(1),
            "username": "manager",
            "password": DEMO_PASSWORD,
        },
        follow_redirects=True,
    )
    if response.status_code != 200 or 'data-testid="current-user"' not in response.text:
        raise RuntimeError(f"login failed: {response.status_code}")


def percentile(sorted_values: list[float], pct: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def latency(client: httpx.Client, url: str, count: int) -> dict[str, float]:
    client.get(url)  # warm-up (first request imports and caches)
    samples: list[float] = []
    errors = 0
    for _ in range(count):
        begin = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - begin) * 1000)
        errors += response.status_code != 200
    samples.sort()
    return {
        "p50": percentile(samples, 50),
        "p95": percentile(samples, 95),
        "p99": percentile(samples, 99),
        "mean": statistics.fmean(samples),
        "errors": float(errors),
    }


def main() -> int:
    figures: list[tuple[str, str]] = []
    work = Path(tempfile.mkdtemp(prefix="opsassure-bench-"))
    data_dir = work / "data"
    data_dir.mkdir()
    runs: list[Run] = []
    ok = True
    try:
        # --- first start: migrate + collectstatic + demo data ----------------------------------
        first = Run(data_dir, work / "run1.log")
        runs.append(first)
        figures.append(("first start → /healthz", f"{first.wait_for('/healthz'):.1f} s"))
        figures.append(("first start → /readyz", f"{first.wait_for('/readyz'):.1f} s"))
        elapsed, left = first.stop()
        figures.append(("first stop (SIGINT)", f"{elapsed:.1f} s, left: {len(left)}"))
        ok &= not left

        # --- second start on the same data ------------------------------------------------------
        second = Run(data_dir, work / "run2.log")
        runs.append(second)
        figures.append(("second start → /healthz", f"{second.wait_for('/healthz'):.1f} s"))
        figures.append(("second start → /readyz", f"{second.wait_for('/readyz'):.1f} s"))

        time.sleep(IDLE_SECONDS)
        rss, count = second.rss_mib()
        figures.append((f"idle RSS after {IDLE_SECONDS:.0f} s", f"{rss:.0f} MiB ({count} procs)"))

        with httpx.Client(timeout=30.0, trust_env=False) as client:
            login(client, second.url)
            for label, path in (
                ("GET /api/v1/customers/", "/api/v1/customers/"),
                ("GET / (dashboard)", "/"),
            ):
                stats = latency(client, f"{second.url}{path}", REQUESTS)
                figures.append(
                    (
                        f"{label} ×{REQUESTS}",
                        f"p50 {stats['p50']:.1f}  p95 {stats['p95']:.1f}  "
                        f"p99 {stats['p99']:.1f} ms  (errors {stats['errors']:.0f})",
                    )
                )
                ok &= stats["errors"] == 0

        elapsed, left = second.stop()
        figures.append(("shutdown (SIGINT)", f"{elapsed:.1f} s"))
        figures.append(("children left behind", ", ".join(left) if left else "none"))
        ok &= not left
    except Exception as error:  # report, clean up, exit non-zero
        print(f"benchmark failed: {error}", file=sys.stderr)
        ok = False
    finally:
        for run in runs:
            if run.process.poll() is None or run.leftovers():
                run.kill()
        shutil.rmtree(work, ignore_errors=True)

    engine = "postgresql" if os.environ.get("OPSASSURE_DATABASE_URL") else "sqlite"
    broker = "external" if os.environ.get("OPSASSURE_BROKER_URL") else "filesystem"
    width = max(len(name) for name, _ in figures) if figures else 10
    print(
        f"OpsAssure platform benchmark ({engine}, {broker} broker, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]})"
    )
    for name, value in figures:
        print(f"  {name:<{width}}  {value}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
