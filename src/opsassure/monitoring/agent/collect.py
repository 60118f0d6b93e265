"""What the agent measures, with psutil. Rates are deltas between two calls."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import platform
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

# Pseudo and container file systems: their "usage" says nothing about the host's disks.
IGNORED_FS_TYPES = frozenset(
    {
        "autofs",
        "binfmt_misc",
        "bpf",
        "cgroup",
        "cgroup2",
        "configfs",
        "debugfs",
        "devpts",
        "devtmpfs",
        "fuse.lxcfs",
        "fusectl",
        "hugetlbfs",
        "iso9660",
        "mqueue",
        "nsfs",
        "overlay",
        "proc",
        "pstore",
        "ramfs",
        "securityfs",
        "squashfs",
        "sysfs",
        "tmpfs",
        "tracefs",
    }
)
IGNORED_MOUNT_PREFIXES = ("/snap/", "/proc", "/sys", "/dev", "/run", "/var/lib/docker/")
MAX_DISKS = 50
MAX_NICS = 50

Metric = dict[str, Any]  # {"name", "dimension", "value", "unit"}


def _metric(name: str, value: float, unit: str, dimension: str = "") -> Metric:
    return {"name": name, "dimension": dimension, "value": round(float(value), 3), "unit": unit}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _counters() -> tuple[float, Any, dict[str, Any]]:
    disk = None
    with contextlib.suppress(RuntimeError, OSError):  # no disks visible (some containers)
        disk = psutil.disk_io_counters(perdisk=False)
    return time.monotonic(), disk, psutil.net_io_counters(pernic=True)


def real_mounts() -> list[tuple[str, str]]:
    """(mount point, device) of real file systems, one mount per device (the shortest)."""
    chosen: dict[str, str] = {}
    for part in psutil.disk_partitions(all=False):
        if part.fstype in IGNORED_FS_TYPES or not part.fstype:
            continue
        if part.mountpoint != "/" and part.mountpoint.startswith(IGNORED_MOUNT_PREFIXES):
            continue
        current = chosen.get(part.device)
        if current is None or len(part.mountpoint) < len(current):
            chosen[part.device] = part.mountpoint
    return sorted((mount, device) for device, mount in chosen.items())[:MAX_DISKS]


def _rate(new: float, old: float, seconds: float) -> float:
    # A counter that went backwards (wrapped, device re-attached) gives no meaningful rate.
    return max(new - old, 0) / seconds


@dataclass
class Collector:
    """Samples the host; call ``collect()`` once per interval."""

    previous: tuple[float, Any, dict[str, Any]] | None = None
    ignored_nics: frozenset[str] = field(default_factory=lambda: frozenset({"lo"}))

    def prime(self) -> None:
        """Start the CPU and counter measurements (the first ``collect`` then has rates)."""
        psutil.cpu_percent(interval=None)
        self.previous = _counters()

    def collect(self) -> dict[str, Any]:
        """One point: ``{"ts": iso, "metrics": [...]}``; rates need a previous call."""
        ts = _now()
        metrics: list[Metric] = []
        primed = self.previous is not None
        cpu = psutil.cpu_percent(interval=None)
        if primed:
            metrics.append(_metric("cpu_percent", cpu, "%"))
        metrics.append(_metric("mem_used_percent", psutil.virtual_memory().percent, "%"))
        metrics.append(_metric("swap_used_percent", psutil.swap_memory().percent, "%"))
        for mount, _device in real_mounts():
            with contextlib.suppress(OSError):  # unmounted or unreadable since listed
                usage = psutil.disk_usage(mount)
                metrics.append(_metric("disk_used_percent", usage.percent, "%", mount))
        now = _counters()
        if self.previous is not None:
            seconds = max(now[0] - self.previous[0], 1e-3)
            old_disk, new_disk = self.previous[1], now[1]
            if old_disk is not None and new_disk is not None:
                read = _rate(new_disk.read_bytes, old_disk.read_bytes, seconds)
                write = _rate(new_disk.write_bytes, old_disk.write_bytes, seconds)
                metrics.append(_metric("disk_read_bytes_per_s", read, "B/s"))
                metrics.append(_metric("disk_write_bytes_per_s", write, "B/s"))
            nics = [name for name in sorted(now[2]) if name not in self.ignored_nics]
            for name in nics[:MAX_NICS]:
                old = self.previous[2].get(name)
                if old is None:
                    continue
                new = now[2][name]
                rx = _rate(new.bytes_recv, old.bytes_recv, seconds)
                tx = _rate(new.bytes_sent, old.bytes_sent, seconds)
                metrics.append(_metric("net_rx_bytes_per_s", rx, "B/s", name))
                metrics.append(_metric("net_tx_bytes_per_s", tx, "B/s", name))
        self.previous = now
        load1, load5, load15 = psutil.getloadavg()
        metrics += [
            _metric("load1", load1, ""),
            _metric("load5", load5, ""),
            _metric("load15", load15, ""),
            _metric("uptime_seconds", time.time() - psutil.boot_time(), "s"),
        ]
        return {"ts": ts.isoformat(), "metrics": metrics}


def addresses() -> list[str]:
    """The host's unicast addresses, loopback and link-local left out."""
    found: list[str] = []
    for entries in psutil.net_if_addrs().values():
        for entry in entries:
            if entry.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            try:
                address = ipaddress.ip_address(entry.address.split("%", 1)[0])
            except ValueError:
                continue
            if address.is_loopback or address.is_link_local or address.is_multicast:
                continue
            if str(address) not in found:
                found.append(str(address))
    return found[:32]


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").strip()[:100]
    except OSError:  # often readable by root only
        return ""


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')[:100]
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}".strip()


def facts() -> dict[str, Any]:
    """What the CMDB records about a host; empty values are left out."""
    values: dict[str, Any] = {
        "os": _os_name(),
        "kernel": platform.release(),
        "cpu_count": psutil.cpu_count() or 0,
        "memory_bytes": psutil.virtual_memory().total,
        "serial": _read("/sys/class/dmi/id/product_serial"),
        "vendor": _read("/sys/class/dmi/id/sys_vendor"),
        "model": _read("/sys/class/dmi/id/product_name"),
    }
    return {key: value for key, value in values.items() if value not in ("", 0, None)}
