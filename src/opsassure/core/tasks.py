"""Core background tasks."""

from __future__ import annotations

import socket
from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from opsassure.core import services


@shared_task(name="opsassure.core.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Sent by the scheduler, run by a worker: a fresh row proves that both are alive."""
    host = socket.gethostname()
    services.beat("worker", host)
    services.beat("scheduler", host)


@worker_ready.connect
def _worker_started(**_: Any) -> None:
    """A worker that just started is alive: report it at once, not at the next beat."""
    services.beat("worker", socket.gethostname())
