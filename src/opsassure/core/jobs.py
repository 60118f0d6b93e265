"""Enqueue Celery work only once the transaction that decided it has committed.

The message says "go look at row N"; if the transaction rolls back there is no row N and no
message. If the broker loses a message, a periodic sweeper (per app) re-drives rows whose state
says work is due, so tasks must be idempotent.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from celery import Task
from django.db import transaction


def enqueue_on_commit(task: Task[Any, Any], *args: Any, **kwargs: Any) -> None:
    """Send ``task`` with these arguments after the current transaction commits."""
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs))


class CoalescingSender:
    """Send ``task(latest argument)`` at most once per ``window`` seconds in this process.

    For work that a run picks up in bulk (a worker run takes every waiting ingest batch, not
    just the one its message names): under load, one message per window instead of one per
    request — a Celery publish was an eighth of the ingest endpoint's CPU. The first call of a
    quiet period is sent at once; calls during the window that follows are folded into one
    trailing message, sent when the window ends and naming the latest argument, so the last
    piece of work is never left waiting for the sweep. Callers call after their commit; the
    message is only a hint (the rows say what is due, and the sweep re-drives what a lost
    message leaves). ``window <= 0``, or eager tasks (tests), send every call at once.

    Celery has no debounce of its own (its rate limits delay execution, not publishing).
    """

    def __init__(self, task: Task[Any, Any], window: float) -> None:
        self.task = task
        self.window = window
        self._lock = threading.Lock()
        self._last_sent = -float("inf")
        self._timer: threading.Timer | None = None
        self._latest: tuple[Any, ...] = ()

    def send(self, *args: Any) -> None:
        if self.window <= 0 or self.task.app.conf.task_always_eager:
            self.task.apply_async(args=args)
            return
        with self._lock:
            if self._timer is not None:  # a trailing message is due: it will carry this one
                self._latest = args
                return
            now = time.monotonic()
            wait = self._last_sent + self.window - now
            if wait > 0:
                self._latest = args
                self._timer = threading.Timer(wait, self._trail)
                self._timer.daemon = True  # at exit a pending hint is left to the sweep
                self._timer.start()
                return
            self._last_sent = now
        self.task.apply_async(args=args)

    def _trail(self) -> None:
        with self._lock:
            args, self._timer = self._latest, None
            self._last_sent = time.monotonic()
        self.task.apply_async(args=args)
