"""Scrape a Prometheus node_exporter (agentless host metrics for fleets that already run it).

Reads ``/metrics`` (``target`` is its URL) and derives the same metric names the OpsAssure
agent pushes: ``cpu_percent`` and the network rates need two scrapes (the previous counters
are kept in the executor state), the rest come from gauges.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from opsassure.monitoring.checks.base import DOWN, UP, CheckContext, CheckSpec, Outcome

MAX_BODY = 16 * 1024 * 1024
PSEUDO_FILESYSTEMS = frozenset(
    {"tmpfs", "devtmpfs", "squashfs", "ramfs", "proc", "sysfs", "nsfs", "autofs", "rpc_pipefs"}
)


@dataclass
class Counters:
    at: float
    cpu_idle: float = 0.0
    cpu_total: float = 0.0
    rx: dict[str, float] = field(default_factory=dict)
    tx: dict[str, float] = field(default_factory=dict)


def metric(name: str, value: float, unit: str, dimension: str = "") -> dict[str, Any]:
    return {"name": name, "dimension": dimension, "value": round(value, 4), "unit": unit}


def derive(
    text: str, now: float, previous: Counters | None
) -> tuple[list[dict[str, Any]], Counters]:
    """The metrics of one scrape (``text`` in the Prometheus text format) and its counters."""
    from prometheus_client.parser import text_string_to_metric_families

    counters = Counters(at=now)
    gauges: dict[str, float] = {}
    size: dict[str, float] = {}
    avail: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name, labels, value = sample.name, sample.labels, sample.value
            if name == "node_cpu_seconds_total":
                counters.cpu_total += value
                if labels.get("mode") in {"idle", "iowait"}:
                    counters.cpu_idle += value
            elif name in {"node_network_receive_bytes_total", "node_network_transmit_bytes_total"}:
                device = labels.get("device", "")
                if device and device != "lo":
                    target = counters.rx if "receive" in name else counters.tx
                    target[device] = value
            elif name in {"node_filesystem_size_bytes", "node_filesystem_avail_bytes"}:
                if labels.get("fstype", "") in PSEUDO_FILESYSTEMS:
                    continue
                target = size if name.endswith("size_bytes") else avail
                target[labels.get("mountpoint", "")] = value
            elif name in {
                "node_load1",
                "node_load5",
                "node_load15",
                "node_memory_MemTotal_bytes",
                "node_memory_MemAvailable_bytes",
                "node_boot_time_seconds",
                "node_time_seconds",
            }:
                gauges[name] = value
    out: list[dict[str, Any]] = []
    if previous is not None and now > previous.at:
        elapsed = now - previous.at
        total = counters.cpu_total - previous.cpu_total
        if total > 0:
            busy = 1.0 - (counters.cpu_idle - previous.cpu_idle) / total
            out.append(metric("cpu_percent", min(100.0, max(0.0, 100.0 * busy)), "%"))
        for device in sorted(counters.rx):
            if device in previous.rx and counters.rx[device] >= previous.rx[device]:
                rate = (counters.rx[device] - previous.rx[device]) / elapsed
                out.append(metric("net_rx_bytes_per_s", rate, "B/s", device))
        for device in sorted(counters.tx):
            if device in previous.tx and counters.tx[device] >= previous.tx[device]:
                rate = (counters.tx[device] - previous.tx[device]) / elapsed
                out.append(metric("net_tx_bytes_per_s", rate, "B/s", device))
    total_memory = gauges.get("node_memory_MemTotal_bytes")
    available = gauges.get("node_memory_MemAvailable_bytes")
    if total_memory and available is not None:
        out.append(metric("mem_used_percent", 100.0 * (1.0 - available / total_memory), "%"))
    for mountpoint in sorted(size):
        if size[mountpoint] > 0 and mountpoint in avail:
            used = 100.0 * (size[mountpoint] - avail[mountpoint]) / size[mountpoint]
            out.append(metric("disk_used_percent", used, "%", mountpoint))
    for window in ("1", "5", "15"):
        if f"node_load{window}" in gauges:
            out.append(metric(f"load{window}", gauges[f"node_load{window}"], ""))
    if "node_boot_time_seconds" in gauges and "node_time_seconds" in gauges:
        uptime = gauges["node_time_seconds"] - gauges["node_boot_time_seconds"]
        out.append(metric("uptime_seconds", uptime, "s"))
    return out, counters


async def run(spec: CheckSpec, context: CheckContext) -> Outcome:
    from opsassure.monitoring.checks.http import _read_limited

    session = context.session()
    started = time.perf_counter()
    async with session.get(spec.target, allow_redirects=True) as response:
        status = response.status
        body, truncated = await _read_limited(response, MAX_BODY)
        if truncated:
            response.close()
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    if status != 200:
        return Outcome(DOWN, elapsed_ms, f"HTTP {status} from the exporter")
    if truncated:
        return Outcome(DOWN, elapsed_ms, f"exporter answer larger than {MAX_BODY} bytes")
    try:
        metrics, counters = derive(
            body.decode("utf-8", "replace"), time.monotonic(), context.state.get(spec.id)
        )
    except ValueError as error:
        return Outcome(DOWN, elapsed_ms, f"not the Prometheus text format: {error}"[:300])
    context.state[spec.id] = counters
    return Outcome(UP, elapsed_ms, "", None, metrics)
