"""ICMP ping: unprivileged ICMP sockets when the system allows them (``net.ipv4.ping_group_range``),
else raw sockets when we may (root / CAP_NET_RAW), else the ``ping`` binary. The first check
finds out which works and the probe keeps that mode."""

from __future__ import annotations

import asyncio
import re
import shutil
from typing import Any

from opsassure.monitoring.checks.base import (
    DEGRADED,
    DOWN,
    UP,
    CheckContext,
    CheckSpec,
    Outcome,
    split_host_port,
)

_RTT = re.compile(r"= [\d.]+/([\d.]+)/")
_RECEIVED = re.compile(r"(\d+) (?:packets )?received")


def _verdict(sent: int, received: int, avg_ms: float | None, spec: CheckSpec) -> Outcome:
    if received == 0:
        return Outcome(DOWN, None, f"no reply ({sent} sent)")
    limit: Any = spec.settings.get("max_response_ms")
    if received < sent:
        return Outcome(DEGRADED, avg_ms, f"packet loss {100 * (sent - received) / sent:.0f}%")
    if limit not in (None, "") and avg_ms is not None and avg_ms > float(limit):
        return Outcome(DEGRADED, avg_ms, f"slow: {avg_ms:.1f} ms > {float(limit):g} ms")
    return Outcome(UP, avg_ms)


async def _icmplib(host: str, count: int, timeout: float, privileged: bool) -> tuple[int, float]:
    from icmplib import async_ping  # type: ignore[import-untyped]

    reply = await async_ping(
        host, count=count, interval=0.2, timeout=timeout, privileged=privileged
    )
    return reply.packets_received, reply.avg_rtt


async def _binary(host: str, count: int, timeout: float) -> tuple[int, float | None]:
    process = await asyncio.create_subprocess_exec(
        "ping",
        "-n",
        "-c",
        str(count),
        "-i",
        "0.2",
        "-W",
        str(max(1, round(timeout))),
        host,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await process.communicate()
    except asyncio.CancelledError:
        process.kill()
        raise
    text = output.decode("utf-8", "replace")
    received = _RECEIVED.search(text)
    rtt = _RTT.search(text)
    return (int(received.group(1)) if received else 0), (float(rtt.group(1)) if rtt else None)


def choose_mode(context: CheckContext) -> str:
    from icmplib.exceptions import SocketPermissionError  # type: ignore[import-untyped]
    from icmplib.sockets import ICMPv4Socket  # type: ignore[import-untyped]

    for mode, privileged in (("unprivileged", False), ("privileged", True)):
        try:
            ICMPv4Socket(privileged=privileged).close()
        except (SocketPermissionError, OSError):
            continue
        return mode
    return "binary" if shutil.which("ping") else "none"


async def run(spec: CheckSpec, context: CheckContext) -> Outcome:
    host, _port = split_host_port(spec.target, 0)
    count = int(spec.settings.get("count") or 3)
    timeout = min(2.0, max(0.2, spec.timeout_seconds / 2))
    if context.icmp_mode is None:
        context.icmp_mode = choose_mode(context)
    mode = context.icmp_mode
    if mode == "none":
        return Outcome(DOWN, None, "no ICMP: no permission for ICMP sockets and no ping binary")
    if mode == "binary":
        received, avg = await _binary(host, count, timeout)
    else:
        received, avg_rtt = await _icmplib(host, count, timeout, mode == "privileged")
        avg = avg_rtt if received else None
    return _verdict(count, received, avg, spec)
