"""The probe runner with a fake transport and real loopback targets: scheduling, assignment
changes, buffering and spooling while the server is away, order and batch ids."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opsassure.monitoring.checks import DOWN, UP, CheckSpec, Outcome
from opsassure.monitoring.probe.buffer import Batch, ResultBuffer
from opsassure.monitoring.probe.runner import Runner, percentile, result_json
from opsassure.monitoring.probe.transport import Assignments, BatchRefusedError, TransportError
from tests.monitoring.probe_helpers import http_target, spec


class FakeTransport:
    def __init__(self) -> None:
        self.checks: list[CheckSpec] = []
        self.version = 0
        self.down = False
        self.refuse = False
        self.batches: list[Batch] = []
        self.heartbeats: list[dict[str, Any]] = []
        self.fetches = 0

    def publish(self, checks: list[CheckSpec]) -> None:
        self.checks = checks
        self.version += 1

    async def assignments(self, etag: str | None) -> Assignments | None:
        self.fetches += 1
        if self.down:
            raise TransportError("down")
        if etag == str(self.version):
            return None
        return Assignments(list(self.checks), 0.2, str(self.version), {"id": 1})

    async def send(self, batch: Batch) -> dict[str, Any]:
        if self.down:
            raise TransportError("down")
        if self.refuse:
            raise BatchRefusedError("400: bad")
        self.batches.append(Batch(batch.batch_id, list(batch.results)))
        return {"accepted": len(batch.results), "duplicates": 0, "refused": []}

    async def heartbeat(self, data: dict[str, Any]) -> None:
        self.heartbeats.append(data)

    async def close(self) -> None:
        pass

    def results(self) -> list[dict[str, Any]]:
        return [item for batch in self.batches for item in batch.results]


async def until(condition: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def test_runs_checks_near_their_interval_and_follows_assignment_changes() -> None:
    async def main() -> None:
        async with http_target() as target:
            transport = FakeTransport()
            a = spec("http", f"{target.url}/ok", check_id=1, interval=0.3)
            b = spec("http", f"{target.url}/status/500", check_id=2, interval=0.3)
            transport.publish([a, b])
            runner = Runner(transport, concurrency=10, flush_seconds=0.05, heartbeat_seconds=0.2)
            stop = asyncio.Event()
            task = asyncio.create_task(runner.run(stop))

            def by_check(check_id: int) -> list[dict[str, Any]]:
                return [r for r in transport.results() if r["check"] == check_id]

            await until(lambda: len(by_check(1)) >= 3 and len(by_check(2)) >= 3)
            assert {r["status"] for r in by_check(1)} == {UP}
            assert {r["message"] for r in by_check(2)} == {"HTTP 500, expected 200-399"}
            # b changes target (new config version), a is removed, c is new
            c = spec("http", f"{target.url}/json", check_id=3, interval=0.3)
            b2 = spec("http", f"{target.url}/ok", check_id=2, interval=0.3, version=2)
            transport.publish([b2, c])
            await until(lambda: runner.etag == str(transport.version))
            seen_a = target.hits.get("/ok", 0)
            await until(lambda: len(by_check(3)) >= 2)
            await until(lambda: by_check(2)[-1]["status"] == UP)
            await until(lambda: len(transport.heartbeats) >= 2)
            stop.set()
            await task
            assert sorted(runner.checks) == [2, 3]
            # after the change, /ok is hit only by check 2 (a stopped)
            assert target.hits["/ok"] - seen_a <= len(by_check(2))
            beat = transport.heartbeats[-1]
            assert beat["checks"] == 2
            assert beat["lag_p99_ms"] is not None
            assert beat["lag_p99_ms"] < 300
            assert runner.skipped == 0
            assert len(transport.results()) == runner.executed

    asyncio.run(main())


def test_spools_while_the_server_is_away_and_sends_everything_once_in_order(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with http_target() as target:
            transport = FakeTransport()
            transport.publish([spec("http", f"{target.url}/ok", check_id=1, interval=0.1)])
            runner = Runner(
                transport,
                buffer=ResultBuffer(spool_dir=tmp_path, batch_size=3),
                flush_seconds=0.05,
                heartbeat_seconds=60,
            )
            stop = asyncio.Event()
            task = asyncio.create_task(runner.run(stop))
            await until(lambda: len(transport.results()) >= 2)
            transport.down = True
            await until(lambda: len(list(tmp_path.glob("*.json"))) >= 3)
            spooled_ids = [p.name.split("-", 1)[1][:-5] for p in sorted(tmp_path.glob("*.json"))]
            sent_before = len(transport.batches)
            transport.down = False
            await until(lambda: not list(tmp_path.glob("*.json")), timeout=20)
            stop.set()
            await task
            after = [batch.batch_id for batch in transport.batches[sent_before:]]
            assert after[: len(spooled_ids)] == spooled_ids  # oldest first, same batch ids
            stamps = [r["started_at"] for r in transport.results()]
            assert stamps == sorted(stamps)
            assert len(stamps) == len(set(stamps)) == runner.executed
            assert runner.buffer.dropped == 0

    asyncio.run(main())


def test_spool_survives_a_restart_with_the_same_batch_ids(tmp_path: Path) -> None:
    first = ResultBuffer(spool_dir=tmp_path, batch_size=2)
    for n in range(5):
        first.add({"check": 1, "started_at": f"2026-11-27T12:00:0{n}+00:00", "status": 0})
    first.form_batches()
    ids = [batch.batch_id for batch in first.pending]
    assert first.spool_all() == 3
    second = ResultBuffer(spool_dir=tmp_path, batch_size=2)
    second.add({"check": 1, "started_at": "2026-11-27T12:00:09+00:00", "status": 0})
    replayed = []
    while (batch := second.next_batch()) is not None:
        replayed.append((batch.batch_id, [r["started_at"][-8:-6] for r in batch.results]))
        second.ack(batch)
    assert [batch_id for batch_id, _ in replayed[:3]] == ids
    assert [stamps for _, stamps in replayed] == [["00", "01"], ["02", "03"], ["04"], ["09"]]


def test_memory_bound_without_spool_drops_the_oldest() -> None:
    buffer = ResultBuffer(batch_size=2, max_memory=4)
    for n in range(7):
        buffer.add({"n": n})
    buffer.form_batches()
    assert buffer.dropped == 4
    assert [r["n"] for batch in buffer.pending for r in batch.results] == [4, 5, 6]


def test_spool_bound_drops_the_oldest_files(tmp_path: Path) -> None:
    buffer = ResultBuffer(spool_dir=tmp_path, batch_size=1, max_spool_bytes=3 * 120)  # 120 B a file
    for n in range(5):
        buffer.add({"n": n, "pad": "x" * 40})
    buffer.spool_all()
    kept = [json.loads(p.read_text())["results"][0]["n"] for p in sorted(tmp_path.glob("*.json"))]
    assert kept == [2, 3, 4]
    assert buffer.dropped == 2


def test_refused_batch_is_dropped_not_retried_forever() -> None:
    async def main() -> None:
        transport = FakeTransport()
        transport.refuse = True
        runner = Runner(transport)
        runner.buffer.add({"check": 1})
        await runner.flush()
        assert runner.buffer.next_batch() is None
        assert transport.batches == []

    asyncio.run(main())


def test_result_json_and_percentile() -> None:
    wall = dt.datetime(2026, 11, 27, 12, 0, 0, 250000, tzinfo=dt.UTC).timestamp()
    assert result_json(5, wall, Outcome(UP, 3.14159)) == {
        "check": 5,
        "started_at": "2026-11-27T12:00:00.250000+00:00",
        "status": 0,
        "response_ms": 3.142,
    }
    expires = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    assert result_json(5, wall, Outcome(DOWN, None, "x", expires, [{"name": "m"}])) == {
        "check": 5,
        "started_at": "2026-11-27T12:00:00.250000+00:00",
        "status": 2,
        "response_ms": None,
        "message": "x",
        "cert_expires_at": "2027-01-01T00:00:00+00:00",
        "metrics": [{"name": "m"}],
    }
    assert percentile([], 0.99) is None
    assert percentile([float(n) for n in range(1, 101)], 0.99) == 99.0
    assert percentile([float(n) for n in range(1, 101)], 0.5) == 50.0
