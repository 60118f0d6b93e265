"""``opsassure probe``: run checks and report them.

With ``--server`` and ``--token`` it is a remote probe (talks HTTP to the server, needs none of
the server's database); without, it is the local probe (``opsassure run`` starts it), which
calls the server functions directly through Django.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path
from typing import Annotated

import typer


def probe(
    server: Annotated[
        str, typer.Option(help="Server URL, e.g. https://ops.example.com (remote probe).")
    ] = "",
    token: Annotated[
        str,
        typer.Option(help="Probe token (opsp_…) or OPSASSURE_PROBE_TOKEN.", show_default=False),
    ] = "",
    concurrency: Annotated[
        int, typer.Option(help="Checks running at the same time (0: the server's setting).")
    ] = 0,
    spool: Annotated[
        Path | None,
        typer.Option(help="Directory for results while the server is unreachable."),
    ] = None,
    heartbeat_seconds: Annotated[float, typer.Option(hidden=True)] = 30.0,
    flush_seconds: Annotated[float, typer.Option(hidden=True)] = 1.0,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING…")] = "INFO",
) -> None:
    """Run checks: a remote probe (--server, --token) or the local probe."""
    from opsassure.monitoring.probe.buffer import ResultBuffer
    from opsassure.monitoring.probe.runner import Runner
    from opsassure.monitoring.probe.transport import HttpTransport, LocalTransport, Transport

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    token = token or os.environ.get("OPSASSURE_PROBE_TOKEN", "")
    transport: Transport
    if server:
        if not token:
            typer.echo("--token (or OPSASSURE_PROBE_TOKEN) is required with --server.", err=True)
            raise typer.Exit(2)
        concurrency = concurrency or 500
        transport = HttpTransport(server, token)
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsassure.settings")
        import django

        django.setup()
        from django.conf import settings

        concurrency = concurrency or settings.MONITORING_PROBE_CONCURRENCY
        spool = spool or Path(settings.DATA_DIR) / "probe-spool"
        transport = LocalTransport()

    async def main() -> None:
        runner = Runner(
            transport,
            concurrency=concurrency,
            buffer=ResultBuffer(spool_dir=spool),
            heartbeat_seconds=heartbeat_seconds,
            flush_seconds=flush_seconds,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        logging.getLogger("opsassure.probe").info(
            "probe started (%s, concurrency %d)", server or "local", concurrency
        )
        await runner.run(stop)

    asyncio.run(main())
