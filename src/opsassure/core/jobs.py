"""Enqueue Celery work only once the transaction that decided it has committed.

The message says "go look at row N"; if the transaction rolls back there is no row N and no
message. If the broker loses a message, a periodic sweeper (per app) re-drives rows whose state
says work is due, so tasks must be idempotent.
"""

from __future__ import annotations

from typing import Any

from celery import Task
from django.db import transaction


def enqueue_on_commit(task: Task[Any, Any], *args: Any, **kwargs: Any) -> None:
    """Send ``task`` with these arguments after the current transaction commits."""
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs))
