"""The agent loop: collect a point every interval, push what is waiting, keep the rest."""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from opsassure.monitoring.agent import PUSH_PATH, VERSION
from opsassure.monitoring.agent.buffer import DEFAULT_MAX_POINTS, Buffer
from opsassure.monitoring.agent.collect import Collector, addresses, facts

log = logging.getLogger("opsassure.agent")

FACTS_EVERY_SECONDS = 86_400
POINTS_PER_PUSH = 60
MIN_INTERVAL_SECONDS = 1


@dataclass(frozen=True)
class Options:
    server: str
    token: str
    interval: float = 30
    spool: Path | None = None
    hostname: str = ""
    max_points: int = DEFAULT_MAX_POINTS
    timeout: float = 10


class Outcome:
    SENT = "sent"  # everything waiting was delivered
    UNREACHABLE = "unreachable"  # network error, 5xx or 429: try again next interval
    UNAUTHORIZED = "unauthorized"  # wrong or revoked token


class Agent:
    def __init__(self, options: Options, client: httpx.Client | None = None) -> None:
        self.options = options
        self.url = options.server.rstrip("/") + PUSH_PATH
        self.client = client or httpx.Client(timeout=options.timeout)
        self.buffer = Buffer(options.spool, options.max_points)
        self.collector = Collector()
        self.hostname = options.hostname or socket.gethostname()
        self.facts_due_at = 0.0  # facts go with the first push, then once a day
        self.sent_points = 0

    def _payload(self, points: list[dict[str, Any]], with_facts: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "hostname": self.hostname,
            "addresses": addresses(),
            "version": VERSION,
            "interval": int(self.options.interval),
            "points": points,
        }
        if with_facts:
            payload["facts"] = facts()
        return payload

    def push_pending(self) -> str:
        """Send the waiting points, oldest first, in batches; stop at the first failure."""
        while True:
            points, handles = self.buffer.peek(POINTS_PER_PUSH)
            with_facts = time.time() >= self.facts_due_at
            if not points and not with_facts:
                return Outcome.SENT
            headers = {"Authorization": f"Bearer {self.options.token}"}
            try:
                response = self.client.post(
                    self.url, json=self._payload(points, with_facts), headers=headers
                )
            except httpx.HTTPError as error:
                log.warning("server unreachable (%s); %d point(s) wait", error, len(self.buffer))
                return Outcome.UNREACHABLE
            if response.status_code == 401:
                log.error("the server refused the agent token (401); points are kept")
                return Outcome.UNAUTHORIZED
            if response.status_code == 429 or response.status_code >= 500:
                log.warning(
                    "server answered %d; %d point(s) wait", response.status_code, len(self.buffer)
                )
                return Outcome.UNREACHABLE
            if response.status_code != 200:
                # A refusal of the batch itself (400, 413): sending it again cannot help.
                log.error("server refused %d point(s): %s", len(points), response.text[:500])
            else:
                try:
                    refused = response.json().get("refused", [])
                except (ValueError, AttributeError):  # not our server's answer (a proxy page)
                    log.warning(
                        "unexpected answer from %s; %d point(s) wait", self.url, len(points)
                    )
                    return Outcome.UNREACHABLE
                if refused:
                    log.warning("server refused %d point(s): %s", len(refused), refused[:3])
                self.sent_points += len(points)
            self.buffer.remove(handles)
            if with_facts:
                self.facts_due_at = time.time() + FACTS_EVERY_SECONDS
            if not points:
                return Outcome.SENT

    def cycle(self) -> str:
        self.buffer.add(self.collector.collect())
        return self.push_pending()

    def run(self, stop: threading.Event, *, once: bool = False) -> str:
        self.collector.prime()
        stop.wait(min(1.0, self.options.interval))  # the first point then has rates
        outcome = self.cycle()
        if once:
            return outcome
        next_at = time.monotonic() + self.options.interval
        while not stop.wait(max(0.0, next_at - time.monotonic())):
            outcome = self.cycle()
            next_at += self.options.interval
            if next_at < time.monotonic():  # suspended or very slow: do not catch up in bursts
                next_at = time.monotonic() + self.options.interval
        return outcome


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="opsassure-agent", description="Push host metrics to OpsAssure."
    )
    p.add_argument("--server", required=True, help="OpsAssure base URL, e.g. https://ops.example")
    p.add_argument("--token", required=True, help="agent token (opsa_…)")
    p.add_argument("--interval", type=float, default=30.0, help="seconds between samples")
    p.add_argument("--spool", type=Path, default=None, help="directory to keep unsent points in")
    p.add_argument("--hostname", default="", help="report this host name (default: the system's)")
    p.add_argument("--max-points", type=int, default=DEFAULT_MAX_POINTS, help="buffer bound")
    p.add_argument("--once", action="store_true", help="collect, push once and exit")
    return p


EXIT_CODES = {Outcome.SENT: 0, Outcome.UNREACHABLE: 2, Outcome.UNAUTHORIZED: 3}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.interval < MIN_INTERVAL_SECONDS:
        sys.stderr.write(f"--interval must be at least {MIN_INTERVAL_SECONDS} s\n")
        return 64
    logging.basicConfig(level=logging.INFO, format="%(asctime)s agent %(levelname)s %(message)s")
    options = Options(
        server=args.server,
        token=args.token,
        interval=args.interval,
        spool=args.spool,
        hostname=args.hostname,
        max_points=args.max_points,
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    agent = Agent(options)
    log.info(
        "agent %s for %s pushing to %s every %ss", VERSION, agent.hostname, agent.url, args.interval
    )
    outcome = agent.run(stop, once=args.once)
    return EXIT_CODES[outcome] if args.once else 0
