"""node_exporter scrape: the real prometheus-node-exporter binary, and exact derivations."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from opsassure.monitoring.checks import DOWN, UP, CheckContext
from opsassure.monitoring.checks.node_exporter import derive
from tests.monitoring.probe_helpers import free_port, http_target, run_one, spec

BINARY = shutil.which("prometheus-node-exporter") or "/usr/bin/prometheus-node-exporter"


@pytest.fixture
def node_exporter() -> Iterator[str]:
    if not os.path.exists(BINARY):
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs the prometheus-node-exporter package (apt)")
        pytest.skip("prometheus-node-exporter is not installed")
    port = free_port()
    process = subprocess.Popen(
        [BINARY, f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("node_exporter did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_real_node_exporter_two_scrapes(node_exporter: str) -> None:
    context = CheckContext()
    check = spec("node_exporter", node_exporter, check_id=7)

    async def main() -> tuple[list[str], list[str], dict[str, float]]:
        try:
            first = await run_one(check, context)
            assert (first.status, first.message) == (UP, "")
            await asyncio.sleep(1.1)  # counters must move between the two scrapes
            second = await run_one(check, context)
            assert second.status == UP
        finally:
            await context.close()
        values = {f"{m['name']}{{{m['dimension']}}}": m["value"] for m in second.metrics}
        return (
            sorted({m["name"] for m in first.metrics}),
            sorted({m["name"] for m in second.metrics}),
            values,
        )

    first_names, second_names, values = asyncio.run(main())
    gauges = ["disk_used_percent", "load1", "load15", "load5", "mem_used_percent", "uptime_seconds"]
    assert first_names == gauges  # rates need a previous scrape
    assert set(second_names) - set(gauges) >= {"cpu_percent"}
    assert set(second_names) <= {*gauges, "cpu_percent", "net_rx_bytes_per_s", "net_tx_bytes_per_s"}
    assert 0 <= values["cpu_percent{}"] <= 100
    assert 0 < values["mem_used_percent{}"] < 100
    assert values["uptime_seconds{}"] > 0
    assert all(not key.endswith("{lo}") for key in values)
    assert any(key.startswith("disk_used_percent{/") for key in values)


SCRAPE = """# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{{cpu="0",mode="idle"}} {idle0}
node_cpu_seconds_total{{cpu="0",mode="user"}} {user0}
node_cpu_seconds_total{{cpu="1",mode="idle"}} {idle1}
node_cpu_seconds_total{{cpu="1",mode="iowait"}} 0
node_cpu_seconds_total{{cpu="1",mode="system"}} {sys1}
# TYPE node_network_receive_bytes_total counter
node_network_receive_bytes_total{{device="eth0"}} {rx}
node_network_receive_bytes_total{{device="lo"}} 999999
# TYPE node_network_transmit_bytes_total counter
node_network_transmit_bytes_total{{device="eth0"}} {tx}
# TYPE node_filesystem_size_bytes gauge
node_filesystem_size_bytes{{device="/dev/sda1",fstype="ext4",mountpoint="/"}} 1000
node_filesystem_size_bytes{{device="tmpfs",fstype="tmpfs",mountpoint="/run"}} 1000
# TYPE node_filesystem_avail_bytes gauge
node_filesystem_avail_bytes{{device="/dev/sda1",fstype="ext4",mountpoint="/"}} 250
node_filesystem_avail_bytes{{device="tmpfs",fstype="tmpfs",mountpoint="/run"}} 1000
# TYPE node_memory_MemTotal_bytes gauge
node_memory_MemTotal_bytes 8000
# TYPE node_memory_MemAvailable_bytes gauge
node_memory_MemAvailable_bytes 2000
# TYPE node_load1 gauge
node_load1 0.5
# TYPE node_load5 gauge
node_load5 0.25
# TYPE node_load15 gauge
node_load15 0.125
# TYPE node_boot_time_seconds gauge
node_boot_time_seconds 1000
# TYPE node_time_seconds gauge
node_time_seconds 4600
"""


def test_derivations_are_exact() -> None:
    first, counters = derive(
        SCRAPE.format(idle0=100, user0=50, idle1=100, sys1=50, rx=1000, tx=500), 10.0, None
    )
    assert first == [
        {"name": "mem_used_percent", "dimension": "", "value": 75.0, "unit": "%"},
        {"name": "disk_used_percent", "dimension": "/", "value": 75.0, "unit": "%"},
        {"name": "load1", "dimension": "", "value": 0.5, "unit": ""},
        {"name": "load5", "dimension": "", "value": 0.25, "unit": ""},
        {"name": "load15", "dimension": "", "value": 0.125, "unit": ""},
        {"name": "uptime_seconds", "dimension": "", "value": 3600.0, "unit": "s"},
    ]
    # 10 s later: 20 s of CPU time passed on 2 CPUs, 5 of them idle → 75 % busy.
    second, _ = derive(
        SCRAPE.format(idle0=103, user0=57, idle1=102, sys1=58, rx=3000, tx=600), 20.0, counters
    )
    assert second[:3] == [
        {"name": "cpu_percent", "dimension": "", "value": 75.0, "unit": "%"},
        {"name": "net_rx_bytes_per_s", "dimension": "eth0", "value": 200.0, "unit": "B/s"},
        {"name": "net_tx_bytes_per_s", "dimension": "eth0", "value": 10.0, "unit": "B/s"},
    ]


def test_not_an_exporter_is_down() -> None:
    async def main() -> None:
        async with http_target() as target:
            missing = await run_one(spec("node_exporter", f"{target.url}/status/404"))
            assert (missing.status, missing.message) == (DOWN, "HTTP 404 from the exporter")

    asyncio.run(main())
