"""Start and stop the real ``opsassure run`` for end-to-end tests.

The supervisor runs in its own session (process group), talks only to 127.0.0.1 on a free port
and keeps its data in a directory the test owns. ``stop()`` sends SIGINT to the supervisor only
— exactly what Ctrl-C in a terminal would do to the foreground process — and then proves that
every process it started is gone. Whatever happens, ``kill()`` removes the whole group.

Scale-out: when ``OPSASSURE_TEST_DATABASE_URL`` is set (PostgreSQL), ``scale_out_env()`` creates
a fresh database for the run and drops it afterwards; ``OPSASSURE_TEST_BROKER_URL`` (Redis or
RabbitMQ) is passed on as the broker. The child never sees ``OPSASSURE_TESTING``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psutil

HOST = "127.0.0.1"
READY_TIMEOUT = 240.0  # generous: CI machines are small and may be busy
STOP_TIMEOUT = 40.0
DEMO_PASSWORD = "opsassure-demo"
# Readiness polling would otherwise log every request (Django's logging config is active here).
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')

# Variables of the test process that must not leak into the server under test.
_SCRUB = (
    "OPSASSURE_TESTING",
    "OPSASSURE_DATABASE_URL",
    "OPSASSURE_BROKER_URL",
    "OPSASSURE_CACHE_URL",
    "OPSASSURE_DATA_DIR",
    "OPSASSURE_TEST_EAGER",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path
    started_at: float
    collected: list[psutil.Process] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self, last: int = 80) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-last:])

    def wait_for(self, path: str, timeout: float = READY_TIMEOUT) -> float:
        """Poll ``path`` until it answers 200; return seconds since the start."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(
                        f"opsassure run exited with {self.process.returncode} "
                        f"before {path} answered:\n{self.log()}"
                    )
                try:
                    response = client.get(f"{self.url}{path}")
                except httpx.HTTPError as error:
                    last = repr(error)
                else:
                    if response.status_code == 200:
                        return time.monotonic() - self.started_at
                    last = f"{response.status_code} {response.text[:200]}"
                time.sleep(0.2)
        raise AssertionError(f"{path} not 200 within {timeout:.0f} s (last: {last}):\n{self.log()}")

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def collect(self) -> list[psutil.Process]:
        """Remember every descendant now, so that ``stop`` can prove each one is gone."""
        self.collected = self.descendants()
        return self.collected

    def stop(self, timeout: float = STOP_TIMEOUT) -> tuple[float, list[str]]:
        """SIGINT to the supervisor only; wait for it and for every collected descendant.

        Returns (seconds until everything was gone, descriptions of processes still present).
        A zombie counts as still present: someone failed to reap it.
        """
        if not self.collected:
            self.collect()
        begin = time.monotonic()
        deadline = begin + timeout
        self.process.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        leftovers = self._leftovers()
        while leftovers and time.monotonic() < deadline:
            time.sleep(0.1)
            leftovers = self._leftovers()
        elapsed = time.monotonic() - begin
        if self.process.poll() is None:
            leftovers.insert(0, f"supervisor pid {self.pid} still running")
        return elapsed, leftovers

    def _leftovers(self) -> list[str]:
        left = []
        for proc in self.collected:
            try:
                if not proc.is_running():  # also false when the PID was reused
                    continue
                status = proc.status()
                left.append(f"pid {proc.pid} [{status}] {' '.join(proc.cmdline())[:120]}")
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                # Gone by now, or a zombie whose cmdline is unreadable: recheck the status.
                with contextlib.suppress(psutil.Error):
                    if proc.is_running() and proc.status() == psutil.STATUS_ZOMBIE:
                        left.append(f"pid {proc.pid} [zombie]")
        return left

    def kill(self) -> None:
        """Last resort: SIGKILL the whole group and any descendant we know of."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        for proc in [*self.collected, *self.descendants()]:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


def start(
    data_dir: Path, log_path: Path, extra_env: dict[str, str] | None = None, port: int | None = None
) -> Server:
    """Start ``python -m opsassure run`` in its own session; output goes to ``log_path``."""
    env = {key: value for key, value in os.environ.items() if key not in _SCRUB}
    env["OPSASSURE_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "opsassure.settings"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra_env or {})
    port = port or free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "opsassure", "run", "--host", HOST, "--port", str(port)],
            env=env,
            cwd=data_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(
        process=process,
        port=port,
        data_dir=data_dir,
        log_path=log_path,
        started_at=time.monotonic(),
    )


@contextlib.contextmanager
def running(
    data_dir: Path, log_path: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    server = start(data_dir, log_path, extra_env)
    try:
        yield server
    finally:
        if server.process.poll() is None or any(p.is_running() for p in server.collected):
            server.kill()


@contextlib.contextmanager
def scale_out_env() -> Iterator[dict[str, str]]:
    """Environment for the child: a fresh PostgreSQL database and the broker, when configured."""
    extra: dict[str, str] = {}
    broker = os.environ.get("OPSASSURE_TEST_BROKER_URL", "")
    if broker:
        extra["OPSASSURE_BROKER_URL"] = broker
    admin_url = os.environ.get("OPSASSURE_TEST_DATABASE_URL", "")
    if not admin_url:
        yield extra
        return
    import psycopg

    name = f"opsassure_e2e_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    extra["OPSASSURE_DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        yield extra
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def login(
    client: httpx.Client, base: str, username: str, password: str = DEMO_PASSWORD
) -> httpx.Response:
    """Log in through the real form (CSRF token from the page); follows the redirect."""
    page = client.get(f"{base}/login/")
    assert page.status_code == 200, page.text[:500]
    match = CSRF_RE.search(page.text)
    assert match, "no csrfmiddlewaretoken on the login page"
    return client.post(
        f"{base}/login/",
        data={
            "csrfmiddlewaretoken": match.group(1),
            "username": username,
            "password": password,
            "next": "",
        },
        headers={"Referer": f"{base}/login/"},
        follow_redirects=True,
    )


def http_client() -> httpx.Client:
    """A cookie-keeping client that ignores proxy settings (we only talk to 127.0.0.1)."""
    return httpx.Client(timeout=15.0, trust_env=False, headers={"Accept-Language": "en"})
