"""Notification throughput: how many outbox rows ``notify_send`` delivers per second.

    .venv/bin/python bench/notify.py [--rows 1000] [--threads 4]

Starts a local fake webhook (http.server, threaded, keep-alive, in its own process) that
answers 200, fills the
outbox with signed-webhook notifications (HMAC-SHA256 over every body), then runs the real
``tasks.notify_send`` code path — claim with a conditional UPDATE and fence, send over
httpx, record the reply — first in one thread, then with N threads racing over the same
rows (each must be sent exactly once). SQLite in a temporary OPSASSURE_DATA_DIR (WAL);
set OPSASSURE_BENCH_DATABASE_URL to run on PostgreSQL. Figures are printed.
"""

from __future__ import annotations

# bench/platform.py is named like the standard library's module: take the folder off the path.
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from typing import Any  # noqa: E402


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else every reply waits ~40 ms for a delayed ACK
    received: Any = None  # a multiprocessing.Value shared with the benchmark process

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with Sink.received.get_lock():
            Sink.received.value += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


def serve_sink(port: Any, received: Any) -> None:
    """The fake webhook, in its own process (it must not share our GIL)."""
    Sink.received = received
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    port.value = server.server_address[1]
    server.serve_forever()


def setup(data_dir: str) -> None:
    os.environ["OPSASSURE_DATA_DIR"] = data_dir
    os.environ["OPSASSURE_DEBUG"] = "0"
    os.environ["OPSASSURE_LOG_LEVEL"] = "WARNING"
    if os.environ.get("OPSASSURE_BENCH_DATABASE_URL"):
        os.environ["OPSASSURE_DATABASE_URL"] = os.environ["OPSASSURE_BENCH_DATABASE_URL"]
    os.environ["DJANGO_SETTINGS_MODULE"] = "opsassure.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(destination: Any, rows: int, prefix: str) -> list[int]:
    from opsassure.notify.models import Notification

    Notification.objects.bulk_create(
        Notification(
            channel="webhook",
            destination=destination,
            address=destination.url,
            subject=f"Alert {i}",
            body=f"**host-{i}** is down",
            dedup_key=f"{prefix}:{i}",
        )
        for i in range(rows)
    )
    return list(
        Notification.objects.filter(dedup_key__startswith=f"{prefix}:")
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def run(ids: list[int], threads: int) -> float:
    from django.db import connection

    from opsassure.notify import tasks

    cursor = iter(ids)
    lock = threading.Lock()

    def work() -> None:
        try:
            while True:
                with lock:
                    pk = next(cursor, None)
                if pk is None:
                    return
                tasks.notify_send(pk)
        finally:
            connection.close()

    began = time.perf_counter()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opsassure-bench-notify-") as data_dir:
        setup(data_dir)
        from django.db import connection

        from opsassure.notify.models import Destination, Notification

        received = multiprocessing.Value("i", 0)
        port = multiprocessing.Value("i", 0)
        sink = multiprocessing.get_context("fork").Process(
            target=serve_sink, args=(port, received), daemon=True
        )
        sink.start()
        while not port.value:
            time.sleep(0.01)
        url = f"http://127.0.0.1:{port.value}/hook"
        destination = Destination.objects.create(
            name="bench", kind="webhook", url=url, secret="bench-secret", rate_limit_per_minute=0
        )
        print(f"database: {connection.vendor}; {args.rows} rows per run; fake webhook {url}")
        for label, threads in (("1 thread", 1), (f"{args.threads} threads", args.threads)):
            ids = fill(destination, args.rows, label)
            before = received.value
            seconds = run(ids, threads)
            sent = Notification.objects.filter(pk__in=ids, state="sent").count()
            delivered = received.value - before
            print(
                f"notify_send, {label:>9}: {args.rows / seconds:8.0f} notifications/s "
                f"({seconds:.2f} s; sent {sent}/{args.rows}; webhook received {delivered})"
            )
            assert sent == delivered == args.rows, "every row must be sent exactly once"
        sink.terminate()
        sink.join(5)


if __name__ == "__main__":
    main()
