"""A remote probe against the real server (live_server) over HTTP: token auth, results stored,
buffering while the server cannot be reached and the flush afterwards, and the real
``opsassure probe`` process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from opsassure.monitoring.models import CheckResult, Probe, ResultBatch
from opsassure.monitoring.probe.buffer import ResultBuffer
from opsassure.monitoring.probe.runner import Runner
from opsassure.monitoring.probe.transport import HttpTransport, TransportError
from tests.conftest import World
from tests.monitoring.probe_db import make_check, make_probe
from tests.monitoring.probe_helpers import http_target

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


class Proxy:
    """A TCP forwarder to the live server that can be switched off (the server "goes away")."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self.writers.update({writer, up_writer})
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        self.writers.clear()
        await self.server.wait_closed()


@contextlib.contextmanager
def loop_thread() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def call(loop: asyncio.AbstractEventLoop, coroutine: Any, timeout: float = 30) -> Any:
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)


def test_wrong_token_gets_nothing_and_stores_nothing(world: World, live_server: Any) -> None:
    probe, token = make_probe()
    make_check(world.customer_a, probes=[probe])

    async def main() -> str:
        transport = HttpTransport(live_server.url, token + "x")
        try:
            await transport.assignments(None)
        except TransportError as error:
            return str(error)
        finally:
            await transport.close()
        return "no error"

    assert asyncio.run(main()).startswith("HTTP 401: ")
    probe.refresh_from_db()
    assert probe.last_heartbeat_at is None
    assert ResultBatch.objects.count() == 0


def test_remote_probe_buffers_while_the_server_is_away_then_flushes(
    world: World, live_server: Any, tmp_path: Path
) -> None:
    probe, token = make_probe()
    port = int(live_server.url.rsplit(":", 1)[1])
    with loop_thread() as loop:
        target_cm = http_target()
        target = call(loop, target_cm.__aenter__())
        check = make_check(
            world.customer_a, probes=[probe], target=f"{target.url}/ok", interval_seconds=10
        )
        proxy = Proxy(port)
        call(loop, proxy.start())
        transport = HttpTransport(f"http://127.0.0.1:{proxy.port}", token)
        runner = Runner(
            transport,
            buffer=ResultBuffer(spool_dir=tmp_path),
            flush_seconds=0.1,
            heartbeat_seconds=0.5,
        )
        stop = asyncio.Event()

        async def start() -> None:
            asyncio.get_running_loop().create_task(runner.run(stop))

        call(loop, start())
        wait_for(lambda: runner.checks != {})
        # Make the (jittered, up to 10 s away) next run due now, twice a second from here on.
        spec = runner.checks[check.pk].spec
        from dataclasses import replace

        async def faster() -> None:
            runner.apply([replace(spec, interval_seconds=0.5)])

        call(loop, faster())
        wait_for(lambda: CheckResult.objects.filter(monitor=check).count() >= 2)
        wait_for(lambda: Probe.objects.get(pk=probe.pk).last_heartbeat_at is not None)
        call(loop, proxy.stop())
        stored_while_up = CheckResult.objects.count()
        wait_for(lambda: len(list(tmp_path.glob("*.json"))) >= 2)
        assert CheckResult.objects.count() in {stored_while_up, stored_while_up + 1}
        call(loop, proxy.start())  # same port: the server is back
        wait_for(lambda: not list(tmp_path.glob("*.json")))

        async def finish() -> None:
            stop.set()

        call(loop, finish())
        wait_for(lambda: runner.context._session is None)
        call(loop, target_cm.__aexit__(None, None, None))
        call(loop, proxy.stop())
    stamps = list(CheckResult.objects.filter(monitor=check).values_list("started_at", flat=True))
    assert len(stamps) == len(set(stamps)) == runner.executed == runner.sent
    assert ResultBatch.objects.filter(probe=probe).count() >= 3
    check.refresh_from_db()
    assert (check.state, check.last_status) == ("up", 0)


def test_the_real_probe_process(world: World, live_server: Any, tmp_path: Path) -> None:
    probe, token = make_probe()
    with loop_thread() as loop:
        target_cm = http_target()
        target = call(loop, target_cm.__aenter__())
        check = make_check(
            world.customer_a,
            probes=[probe],
            target=f"{target.url}/status/503",
            interval_seconds=10,
            failure_threshold=1,
        )
        env = {**os.environ, "OPSASSURE_PROBE_TOKEN": token}
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "opsassure",
                "probe",
                "--server",
                live_server.url,
                "--spool",
                str(tmp_path),
                "--heartbeat-seconds",
                "1",
                "--flush-seconds",
                "0.2",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: CheckResult.objects.filter(monitor=check).exists(), timeout=40)
            wait_for(lambda: Probe.objects.get(pk=probe.pk).heartbeat.get("checks") == 1)
        finally:
            process.send_signal(signal.SIGTERM)
            output = process.communicate(timeout=30)[0].decode()
            call(loop, target_cm.__aexit__(None, None, None))
    assert process.returncode == 0, output
    first = CheckResult.objects.filter(monitor=check).order_by("started_at").first()
    assert first is not None
    assert (first.status, first.message) == (2, "HTTP 503, expected 200-399")
    check.refresh_from_db()
    assert check.state == "down"
