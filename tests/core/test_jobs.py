"""core.jobs: messages sent after the commit, and folded under load."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

from opsassure.core.jobs import CoalescingSender


class RecordingTask:
    """Stands in for a Celery task: records what would be published, and when."""

    def __init__(self, eager: bool = False) -> None:
        self.app = SimpleNamespace(conf=SimpleNamespace(task_always_eager=eager))
        self.sent: list[tuple[Any, ...]] = []
        self.arrived = threading.Event()

    def apply_async(self, args: tuple[Any, ...] = ()) -> None:
        self.sent.append(args)
        self.arrived.set()


def wait_for(task: RecordingTask, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while len(task.sent) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_first_call_goes_at_once_and_the_window_folds_into_one_trailing_message() -> None:
    task = RecordingTask()
    sender = CoalescingSender(task, window=1.0)  # type: ignore[arg-type]
    sender.send(1)
    assert task.sent == [(1,)]  # no wait for the first of a quiet period
    sender.send(2)
    sender.send(3)
    assert task.sent == [(1,)]  # folded, not lost
    wait_for(task, 2)
    assert task.sent == [(1,), (3,)]  # one trailing message, with the latest argument
    time.sleep(0.2)
    assert task.sent == [(1,), (3,)]  # and only one


def test_a_call_after_a_quiet_window_goes_at_once() -> None:
    task = RecordingTask()
    sender = CoalescingSender(task, window=0.1)  # type: ignore[arg-type]
    sender.send("a")
    time.sleep(0.25)
    sender.send("b")
    assert task.sent == [("a",), ("b",)]


def test_no_window_or_eager_tasks_send_every_call() -> None:
    for task, window in ((RecordingTask(), 0.0), (RecordingTask(eager=True), 1.0)):
        sender = CoalescingSender(task, window=window)  # type: ignore[arg-type]
        for n in range(3):
            sender.send(n)
        assert task.sent == [(0,), (1,), (2,)]


def test_concurrent_callers_lose_nothing() -> None:
    """Whatever the interleaving, the last argument sent is the last one given."""
    task = RecordingTask()
    sender = CoalescingSender(task, window=0.5)  # type: ignore[arg-type]
    lock = threading.Lock()
    given: list[int] = []

    def call(n: int) -> None:
        with lock:  # record and send in one step, so "last given" is well defined
            given.append(n)
            sender.send(n)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + 5
    while task.sent[-1] != (given[-1],) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert task.sent[-1] == (given[-1],)
    assert len(task.sent) < len(given)  # folded
