"""Core background tasks."""

from __future__ import annotations

import socket

from celery import shared_task

from opsassure.core import services


@shared_task(name="opsassure.core.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Sent by the scheduler, run by a worker: a fresh row proves that both are alive."""
    host = socket.gethostname()
    services.beat("worker", host)
    services.beat("scheduler", host)
