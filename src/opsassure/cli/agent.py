"""``opsassure agent``: the host metrics agent (see ``opsassure.monitoring.agent``).

Needs no database and no Django: the same code runs as ``python -m opsassure.monitoring.agent``
on hosts that only have psutil and httpx installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from opsassure.monitoring.agent.buffer import DEFAULT_MAX_POINTS


def agent(
    server: Annotated[str, typer.Option(help="OpsAssure base URL, e.g. https://ops.example.")],
    token: Annotated[
        str, typer.Option(help="Agent token (opsa_…).", envvar="OPSASSURE_AGENT_TOKEN")
    ],
    interval: Annotated[float, typer.Option(help="Seconds between samples.")] = 30.0,
    spool: Annotated[
        Path | None, typer.Option(help="Directory that keeps unsent points across restarts.")
    ] = None,
    hostname: Annotated[
        str, typer.Option(help="Host name to report (default: the system's).")
    ] = "",
    max_points: Annotated[
        int, typer.Option(help="Most points kept while offline.")
    ] = DEFAULT_MAX_POINTS,
    once: Annotated[
        bool, typer.Option(help="Collect, push once and exit (2: unreachable, 3: token refused).")
    ] = False,
) -> None:
    """Push this host's CPU, memory, disk, network, load and uptime with an agent token."""
    from opsassure.monitoring.agent.runner import main

    argv = ["--server", server, "--token", token, "--interval", str(interval)]
    argv += ["--max-points", str(max_points)]
    if spool is not None:
        argv += ["--spool", str(spool)]
    if hostname:
        argv += ["--hostname", hostname]
    if once:
        argv.append("--once")
    raise typer.Exit(main(argv))
