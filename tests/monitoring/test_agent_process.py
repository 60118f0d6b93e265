"""The real agent: a separate process (no Django) pushing to a live server over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from opsassure.cmdb.models import ConfigurationItem
from opsassure.monitoring import tokens
from opsassure.monitoring.models import Agent, MetricSeries, Sample
from tests.conftest import World
from tests.factories import _ci

pytestmark = pytest.mark.django_db(transaction=True)

AGENT = [sys.executable, "-m", "opsassure.monitoring.agent"]
ALWAYS = {
    "cpu_percent",
    "mem_used_percent",
    "swap_used_percent",
    "load1",
    "load5",
    "load15",
    "uptime_seconds",
}
KNOWN = ALWAYS | {
    "disk_used_percent",
    "disk_read_bytes_per_s",
    "disk_write_bytes_per_s",
    "net_rx_bytes_per_s",
    "net_tx_bytes_per_s",
}


def _server(live_server: Any) -> str:
    return str(live_server.url).replace("localhost", "127.0.0.1")


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AGENT, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nobody listens


def test_the_agent_module_imports_no_django() -> None:
    code = (
        "import sys, opsassure.monitoring.agent.runner, opsassure.monitoring.agent.collect;"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_one_push_from_a_real_agent_process(world: World, live_server: Any) -> None:
    ci = _ci(world.customer_a, name="agent-host")
    ConfigurationItem.objects.filter(pk=ci.pk).update(hostname="agent-host.test")
    _row, token = tokens.create_agent_token(customer=world.customer_a, name="fleet")
    done = _run(
        "--server",
        _server(live_server),
        "--token",
        token,
        "--once",
        "--hostname",
        "agent-host.test",
    )
    assert done.returncode == 0, done.stderr
    agent = Agent.objects.get()
    assert (agent.hostname, agent.ci_id, agent.version, agent.interval_seconds) == (
        "agent-host.test",
        ci.pk,
        "1.0",
        30,
    )
    assert agent.facts["cpu_count"] == os.cpu_count()
    assert agent.facts["memory_bytes"] > 0
    names = set(MetricSeries.objects.values_list("name", flat=True))
    assert ALWAYS <= names <= KNOWN
    assert MetricSeries.objects.filter(ci=ci).count() == MetricSeries.objects.count()
    # One point: every series has exactly one sample, all at the same instant.
    assert Sample.objects.count() == MetricSeries.objects.count()
    assert Sample.objects.values("ts").distinct().count() == 1
    cpu = Sample.objects.get(series__name="cpu_percent").value
    assert 0.0 <= cpu <= 100.0
    assert Sample.objects.get(series__name="uptime_seconds").value > 0
    assert not MetricSeries.objects.filter(name__startswith="net_", dimension="lo").exists()


def test_a_refused_token_exits_3_and_stores_nothing(world: World, live_server: Any) -> None:
    row, token = tokens.create_agent_token(customer=world.customer_a, name="fleet")
    tokens.revoke(row)
    done = _run("--server", _server(live_server), "--token", token, "--once")
    assert done.returncode == 3, done.stderr
    assert "401" in done.stderr
    assert Agent.objects.count() == 0
    assert Sample.objects.count() == 0


def test_the_agent_keeps_pushing_every_interval_and_stops_on_sigterm(
    world: World, live_server: Any
) -> None:
    _row, token = tokens.create_agent_token(customer=world.customer_a, name="fleet")
    process = subprocess.Popen(
        [
            *AGENT,
            "--server",
            _server(live_server),
            "--token",
            token,
            "--interval",
            "1",
            "--hostname",
            "loop-host",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(lambda: Sample.objects.filter(series__name="cpu_percent").count() >= 3)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stamps = list(
        Sample.objects.filter(series__name="cpu_percent")
        .order_by("ts")
        .values_list("ts", flat=True)
    )
    assert len(stamps) >= 3
    assert len(set(stamps)) == len(stamps)
    assert Agent.objects.get().hostname == "loop-host"


def test_points_wait_in_the_spool_while_the_server_is_down_and_are_sent_later(
    world: World, live_server: Any, tmp_path: Path
) -> None:
    _row, token = tokens.create_agent_token(customer=world.customer_a, name="fleet")
    spool = tmp_path / "spool"
    down = f"http://127.0.0.1:{_closed_port()}"
    for _ in range(2):
        offline = _run(
            "--server",
            down,
            "--token",
            token,
            "--once",
            "--spool",
            str(spool),
            "--hostname",
            "spool-host",
        )
        assert offline.returncode == 2, offline.stderr
    assert len(list(spool.glob("*.json"))) == 2
    assert Sample.objects.count() == 0
    online = _run(
        "--server",
        _server(live_server),
        "--token",
        token,
        "--once",
        "--spool",
        str(spool),
        "--hostname",
        "spool-host",
    )
    assert online.returncode == 0, online.stderr
    assert list(spool.glob("*.json")) == []
    cpu = Sample.objects.filter(series__name="cpu_percent").order_by("ts")
    assert cpu.count() == 3  # two spooled points (oldest first) and the new one
    assert len({sample.ts for sample in cpu}) == 3


def test_opsassure_agent_command_runs_the_same_agent(world: World, live_server: Any) -> None:
    _row, token = tokens.create_agent_token(customer=world.customer_a, name="fleet")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "opsassure",
            "agent",
            "--server",
            _server(live_server),
            "--token",
            token,
            "--once",
            "--hostname",
            "cli-host",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert Agent.objects.get().hostname == "cli-host"
