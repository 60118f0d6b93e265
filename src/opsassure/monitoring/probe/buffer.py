"""Results waiting to be sent: in memory, bounded, and spooled to files while the server is
unreachable, then sent in the order they were made.

A batch keeps its ``batch_id`` from the moment it is formed, through the spool, until the
server acknowledges it, so a batch re-sent after a lost answer is recognised and stored once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("opsassure.probe")


@dataclass(slots=True)
class Batch:
    batch_id: str
    results: list[dict[str, Any]]
    path: Path | None = None  # set while it lives in the spool


class ResultBuffer:
    """``add`` results; ``next_batch`` gives the oldest unsent batch (spool first);
    ``ack`` / ``defer`` after a send attempt.

    Bounds: at most ``max_memory`` results in memory (without a spool directory the oldest
    batches are dropped past it, and counted in ``dropped``); the spool keeps at most
    ``max_spool_bytes`` (the oldest files go first).
    """

    def __init__(
        self,
        *,
        spool_dir: Path | None = None,
        batch_size: int = 1000,
        max_memory: int = 200_000,
        max_spool_bytes: int = 512 * 1024 * 1024,
    ) -> None:
        self.spool_dir = spool_dir
        self.batch_size = batch_size
        self.max_memory = max_memory
        self.max_spool_bytes = max_spool_bytes
        self.fresh: list[dict[str, Any]] = []
        self.pending: deque[Batch] = deque()  # formed, not yet acknowledged, in memory
        self.dropped = 0
        self._sequence = 0
        if spool_dir is not None:
            spool_dir.mkdir(parents=True, exist_ok=True)
            existing = self._spool_files()
            if existing:
                self._sequence = int(existing[-1].name.split("-", 1)[0]) + 1

    def add(self, result: dict[str, Any]) -> None:
        self.fresh.append(result)

    @property
    def in_memory(self) -> int:
        return len(self.fresh) + sum(len(batch.results) for batch in self.pending)

    def spooled(self) -> int:
        return len(self._spool_files())

    def _spool_files(self) -> list[Path]:
        if self.spool_dir is None:
            return []
        return sorted(self.spool_dir.glob("*.json"))

    def form_batches(self) -> None:
        """Move the fresh results into batches (each gets its id now)."""
        while self.fresh:
            chunk = self.fresh[: self.batch_size]
            del self.fresh[: self.batch_size]
            self.pending.append(Batch(str(uuid.uuid4()), chunk))
        self._enforce_memory_bound()

    def next_batch(self) -> Batch | None:
        """The oldest unsent batch: a spooled one first (they are older than memory)."""
        for path in self._spool_files():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                return Batch(str(data["batch_id"]), list(data["results"]), path)
            except (OSError, ValueError, KeyError, TypeError):
                log.warning("dropping unreadable spool file %s", path)
                path.unlink(missing_ok=True)
        if not self.pending:
            self.form_batches()
        return self.pending[0] if self.pending else None

    def ack(self, batch: Batch) -> None:
        """The server has it (or refused it for good): forget it."""
        if batch.path is not None:
            batch.path.unlink(missing_ok=True)
        elif self.pending and self.pending[0] is batch:
            self.pending.popleft()

    def spool_all(self) -> int:
        """The server is unreachable: write the memory batches to the spool (in order)."""
        self.form_batches()
        if self.spool_dir is None:
            return 0
        written = 0
        while self.pending:
            batch = self.pending[0]
            name = f"{self._sequence:012d}-{batch.batch_id}.json"
            temporary = self.spool_dir / f".{name}.tmp"
            payload = {"batch_id": batch.batch_id, "results": batch.results}
            try:
                temporary.write_text(json.dumps(payload, separators=(",", ":")), encoding="utf-8")
                os.replace(temporary, self.spool_dir / name)
            except OSError as error:
                log.warning("cannot spool results: %s", error)
                break
            self._sequence += 1
            self.pending.popleft()
            written += 1
        self._enforce_spool_bound()
        return written

    def _enforce_memory_bound(self) -> None:
        while self.pending and self.in_memory > self.max_memory:
            self.dropped += len(self.pending.popleft().results)

    def _enforce_spool_bound(self) -> None:
        files = self._spool_files()
        total = sum(path.stat().st_size for path in files)
        for path in files:
            if total <= self.max_spool_bytes:
                break
            total -= path.stat().st_size
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                self.dropped += len(json.loads(path.read_text(encoding="utf-8"))["results"])
            path.unlink(missing_ok=True)
