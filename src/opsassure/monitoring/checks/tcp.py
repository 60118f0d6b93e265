"""TCP port check: the connection is opened (and closed at once)."""

from __future__ import annotations

import asyncio
import contextlib
import time

from opsassure.monitoring.checks.base import UP, CheckContext, CheckSpec, Outcome, split_host_port


def address(spec: CheckSpec) -> tuple[str, int]:
    port = spec.settings.get("port")
    host, parsed_port = split_host_port(spec.target, int(port) if port else 0)
    if port:
        parsed_port = int(port)
    if not parsed_port:
        from opsassure.monitoring.checks.base import SettingsError

        raise SettingsError("no port")
    return host, parsed_port


async def run(spec: CheckSpec, context: CheckContext) -> Outcome:
    host, port = context.prepare(spec, address)
    started = time.perf_counter()
    _reader, writer = await asyncio.open_connection(host, port)
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return Outcome(UP, elapsed_ms)
