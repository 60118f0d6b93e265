"""A small process supervisor for the all-in-one ``opsassure run``.

Why our own and not honcho/supervisord: we need exactly four things — start the children in
order, print the logins once the web answers, restart a crashed child with backoff, and on
Ctrl-C stop every child and *prove* none is left (SIGTERM, then SIGKILL after a grace period).
That is ~100 lines; supervisord is a daemon with its own config language, and honcho does not
restart children. Production deployments use systemd or Kubernetes instead (docs/deployment.md).
"""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from types import FrameType

from rich.console import Console

GRACE_SECONDS = 20.0
MAX_RESTARTS = 5


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    history: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv)  # inherits stdout/stderr: one terminal
        self.started_at = time.monotonic()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.children: list[Child] = []
        self.stopping = False

    @staticmethod
    def run_once(argv: list[str]) -> int:
        return subprocess.call(argv)

    def add(self, name: str, argv: list[str]) -> None:
        self.children.append(Child(name, argv))

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def serve(self, ready_url: str, banner: str) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        for child in self.children:
            child.start()
        announced = False
        deadline = time.monotonic() + 120
        while not self.stopping:
            if not announced and self._answers(ready_url):
                self.console.print(banner)
                announced = True
            elif not announced and time.monotonic() > deadline:
                self.console.print(f"[yellow]{ready_url} does not answer yet…[/]")
                deadline = time.monotonic() + 60
            for child in self.children:
                if child.alive or self.stopping:
                    continue
                code = child.process.returncode if child.process else None
                if child.restarts >= MAX_RESTARTS:
                    self.console.print(
                        f"[red]{child.name} keeps failing (exit {code}); stopping everything.[/]"
                    )
                    self.stopping = True
                    break
                child.restarts += 1
                delay = min(2**child.restarts, 30)
                self.console.print(
                    f"[yellow]{child.name} exited ({code}); restart "
                    f"{child.restarts}/{MAX_RESTARTS} in {delay} s[/]"
                )
                time.sleep(delay)
                if not self.stopping:
                    child.start()
            time.sleep(0.5)
        return self.shutdown()

    def shutdown(self) -> int:
        self.console.print("Stopping…")
        for child in self.children:
            if child.alive and child.process is not None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.console.print(f"[red]{child.name} did not stop in time; killing it.[/]")
                child.process.kill()
                child.process.wait()
        self.console.print("Stopped.")
        return 0

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - our URL
                return bool(response.status == 200)
        except OSError:
            return False
