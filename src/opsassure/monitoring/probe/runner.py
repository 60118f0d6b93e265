"""The probe runner: every assigned check runs close to its interval, at most ``concurrency`` at
a time, and its result goes to the server in batches.

Scheduling is a heap of due times (monotonic clock). A new check's first run is placed at a
random point inside its interval, so 20,000 checks at 60 s start as an even 333 per second
rather than a burst; afterwards each run is due exactly one interval after the previous due
time (no drift). Lag = start - due, kept for the last 20,000 runs (p50/p99 in the heartbeat).
A run still going when the next is due is not doubled: that run is skipped and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import heapq
import logging
import math
import random
import time
from collections import deque
from typing import Any

from opsassure.monitoring.checks import CheckContext, CheckSpec, Outcome, run_check
from opsassure.monitoring.checks.base import describe, down
from opsassure.monitoring.probe.buffer import ResultBuffer
from opsassure.monitoring.probe.transport import BatchRefusedError, Transport, TransportError

log = logging.getLogger("opsassure.probe")

MAX_POLL_SECONDS = 30.0
LAG_WINDOW = 20_000


def probe_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("opsassure")
    except PackageNotFoundError:
        return "dev"


class Entry:
    __slots__ = ("generation", "spec", "task")

    def __init__(self, spec: CheckSpec) -> None:
        self.spec = spec
        self.generation = 0
        self.task: asyncio.Task[None] | None = None


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


class Runner:
    def __init__(
        self,
        transport: Transport,
        *,
        concurrency: int = 500,
        buffer: ResultBuffer | None = None,
        flush_seconds: float = 1.0,
        heartbeat_seconds: float = 30.0,
        context: CheckContext | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.transport = transport
        self.concurrency = concurrency
        self.buffer = buffer or ResultBuffer()
        self.flush_seconds = flush_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.context = context or CheckContext(
            concurrency=concurrency, user_agent=f"OpsAssure-probe/{probe_version()}"
        )
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.checks: dict[int, Entry] = {}
        self.lags: deque[float] = deque(maxlen=LAG_WINDOW)
        self.executed = 0
        self.skipped = 0
        self.sent = 0
        self.refused_results = 0
        self.poll_seconds = MAX_POLL_SECONDS
        self.etag: str | None = None
        self.probe: dict[str, Any] = {}
        self.assignments_loaded = asyncio.Event()
        self._heap: list[tuple[float, int, Entry, int]] = []
        self._sequence = 0
        self._semaphore = asyncio.Semaphore(concurrency)
        self._wakeup = asyncio.Event()
        self._orphans: set[asyncio.Task[None]] = set()
        self._failures = 0
        self._retry_at = 0.0

    # --- assignments ------------------------------------------------------------------------

    def _push(self, due: float, entry: Entry) -> None:
        self._sequence += 1
        heapq.heappush(self._heap, (due, self._sequence, entry, entry.generation))

    def apply(self, specs: list[CheckSpec]) -> None:
        """Take a new assignment: new checks start within one interval, changed ones run with
        their new settings from the next run (a new interval reschedules), removed ones stop."""
        now = asyncio.get_running_loop().time()
        seen: set[int] = set()
        for spec in specs:
            seen.add(spec.id)
            entry = self.checks.get(spec.id)
            if entry is None:
                entry = self.checks[spec.id] = Entry(spec)
                self._push(now + self.rng.uniform(0, spec.interval_seconds), entry)
                continue
            if entry.spec == spec:
                continue
            old, entry.spec = entry.spec, spec
            self.context.forget(spec.id)
            if old.interval_seconds != spec.interval_seconds:
                entry.generation += 1
                self._push(now + self.rng.uniform(0, spec.interval_seconds), entry)
        for check_id in [check_id for check_id in self.checks if check_id not in seen]:
            entry = self.checks.pop(check_id)
            entry.generation += 1
            if entry.task is not None and not entry.task.done():
                self._orphans.add(entry.task)
                entry.task.add_done_callback(self._orphans.discard)
            self.context.forget(check_id)
        self._wakeup.set()

    # --- execution --------------------------------------------------------------------------

    async def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        heap = self._heap
        while True:
            now = loop.time()
            while heap and heap[0][0] <= now:
                due, _seq, entry, generation = heapq.heappop(heap)
                if generation != entry.generation:
                    continue  # removed or rescheduled
                interval = entry.spec.interval_seconds
                following = due + interval
                if following <= now:  # far behind: skip the missed runs, keep the phase
                    following = due + interval * math.ceil((now - due) / interval + 1e-9)
                self._push(following, entry)
                if entry.task is not None and not entry.task.done():
                    self.skipped += 1
                    continue
                await self._semaphore.acquire()
                entry.task = loop.create_task(self._execute(entry.spec, due))
                now = loop.time()
            self._wakeup.clear()
            delay = min(1.0, heap[0][0] - now) if heap else 1.0
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wakeup.wait()

    async def _execute(self, spec: CheckSpec, due: float) -> None:
        self.lags.append(asyncio.get_running_loop().time() - due)
        wall = time.time()
        try:
            outcome = await run_check(spec, self.context)
        except Exception as error:  # an executor bug must not kill the probe
            log.exception("check %s failed", spec.id)
            outcome = down(describe(error))
        finally:
            self._semaphore.release()
        self.executed += 1
        self.buffer.add(result_json(spec.id, wall, outcome))

    # --- talking to the server --------------------------------------------------------------

    async def refresh(self) -> bool:
        """Fetch the assignment (If-None-Match); True if it changed."""
        assignments = await self.transport.assignments(self.etag)
        self.assignments_loaded.set()
        if assignments is None:
            return False
        self.etag = assignments.etag
        self.probe = assignments.probe
        self.poll_seconds = max(1.0, min(MAX_POLL_SECONDS, assignments.poll_seconds))
        self.apply(assignments.checks)
        return True

    async def _poll(self) -> None:
        while True:
            try:
                await self.refresh()
            except (TransportError, BatchRefusedError) as error:
                log.warning("cannot fetch assignments: %s", error)
            await asyncio.sleep(self.poll_seconds)

    async def flush(self) -> None:
        """Send what is waiting, oldest first; on failure spool it and back off."""
        loop = asyncio.get_running_loop()
        if loop.time() < self._retry_at:
            self.buffer.spool_all()
            return
        while (batch := self.buffer.next_batch()) is not None:
            try:
                answer = await self.transport.send(batch)
            except BatchRefusedError as error:
                log.error("server refused a batch of %d results: %s", len(batch.results), error)
                self.buffer.ack(batch)
                continue
            except TransportError as error:
                self._failures += 1
                backoff = min(30.0, 2.0 ** min(self._failures, 5))
                self._retry_at = loop.time() + backoff
                log.warning("cannot send results (retry in %.0f s): %s", backoff, error)
                self.buffer.spool_all()
                return
            self._failures = 0
            self.buffer.ack(batch)
            self.sent += len(batch.results)
            refused = answer.get("refused") or []
            if refused:
                self.refused_results += len(refused)
                log.warning("server refused %d results, first: %s", len(refused), refused[0])

    async def _send_loop(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            await self.flush()

    def stats(self) -> dict[str, Any]:
        lags = list(self.lags)
        p50, p99 = percentile(lags, 0.5), percentile(lags, 0.99)
        return {
            "version": probe_version(),
            "checks": len(self.checks),
            "executed": self.executed,
            "skipped": self.skipped,
            "lag_p50_ms": round(p50 * 1000, 1) if p50 is not None else None,
            "lag_p99_ms": round(p99 * 1000, 1) if p99 is not None else None,
            "buffered": self.buffer.in_memory,
            "spooled": self.buffer.spooled(),
            "dropped": self.buffer.dropped,
            "running": self.concurrency - self._semaphore._value,
        }

    async def _heartbeat_loop(self) -> None:
        while True:
            try:
                await self.transport.heartbeat(self.stats())
            except (TransportError, BatchRefusedError) as error:
                log.warning("heartbeat failed: %s", error)
            await asyncio.sleep(self.heartbeat_seconds)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; then send (or spool) what is left."""
        loops = [
            asyncio.create_task(self._poll(), name="probe-poll"),
            asyncio.create_task(self._schedule(), name="probe-schedule"),
            asyncio.create_task(self._send_loop(), name="probe-send"),
            asyncio.create_task(self._heartbeat_loop(), name="probe-heartbeat"),
        ]
        try:
            await stop.wait()
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            running = [e.task for e in self.checks.values() if e.task and not e.task.done()]
            running += list(self._orphans)
            if running:
                await asyncio.wait(running, timeout=5)
            with contextlib.suppress(Exception):
                self._retry_at = 0.0
                await self.flush()
            self.buffer.spool_all()
            await self.context.close()
            await self.transport.close()


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def result_json(check_id: int, wall: float, outcome: Outcome) -> dict[str, Any]:
    """One result as the API takes it (empty optional fields left out: smaller batches)."""
    result: dict[str, Any] = {
        "check": check_id,
        "started_at": dt.datetime.fromtimestamp(wall, dt.UTC).isoformat(),
        "status": outcome.status,
        "response_ms": round(outcome.response_ms, 3) if outcome.response_ms is not None else None,
    }
    if outcome.message:
        result["message"] = outcome.message
    if outcome.cert_expires_at is not None:
        result["cert_expires_at"] = _iso(outcome.cert_expires_at)
    if outcome.metrics:
        result["metrics"] = outcome.metrics
    return result
