"""Check executors, one module per kind (no Django here: remote probes run this package)."""

from __future__ import annotations

from opsassure.monitoring.checks import dns, http, icmp, node_exporter, tcp, tls
from opsassure.monitoring.checks.base import (
    DEGRADED,
    DOWN,
    UP,
    CheckContext,
    CheckSpec,
    Executor,
    Outcome,
    run_attempts,
)

EXECUTORS: dict[str, Executor] = {
    "http": http.run,
    "tcp": tcp.run,
    "icmp": icmp.run,
    "tls": tls.run,
    "dns": dns.run,
    "node_exporter": node_exporter.run,
}


async def run_check(spec: CheckSpec, context: CheckContext) -> Outcome:
    """Execute one check (with its retries and timeout); never raises for the target's faults."""
    executor = EXECUTORS.get(spec.kind)
    if executor is None:
        return Outcome(DOWN, None, f"unknown check kind {spec.kind!r}")
    return await run_attempts(executor, spec, context)


__all__ = [
    "DEGRADED",
    "DOWN",
    "EXECUTORS",
    "UP",
    "CheckContext",
    "CheckSpec",
    "Outcome",
    "run_check",
]
