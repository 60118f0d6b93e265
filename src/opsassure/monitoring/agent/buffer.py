"""Points waiting to be sent: bounded, oldest first; optionally spooled to a directory.

In memory the buffer is lost with the process; with a spool directory every point is a small
file (``<ns>.json``) that survives a restart. Either way, once ``max_points`` are waiting the
oldest are dropped: a host that is cut off for days keeps the newest data, not all of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import deque
from pathlib import Path
from typing import Any

DEFAULT_MAX_POINTS = 10_000  # ~3.5 days at the default 30 s interval


class Buffer:
    def __init__(self, spool: Path | None = None, max_points: int = DEFAULT_MAX_POINTS) -> None:
        self.spool = spool
        self.max_points = max(1, max_points)
        self.memory: deque[dict[str, Any]] = deque()
        self.dropped = 0
        self._last_name = 0
        if spool is not None:
            spool.mkdir(parents=True, exist_ok=True)

    def _files(self) -> list[Path]:
        assert self.spool is not None
        return sorted(self.spool.glob("*.json"), key=lambda path: int(path.stem))

    def __len__(self) -> int:
        return len(self._files()) if self.spool is not None else len(self.memory)

    def add(self, point: dict[str, Any]) -> None:
        if self.spool is None:
            self.memory.append(point)
            while len(self.memory) > self.max_points:
                self.memory.popleft()
                self.dropped += 1
            return
        name = max(time.time_ns(), self._last_name + 1)
        self._last_name = name
        temporary = self.spool / f"{name}.tmp"
        temporary.write_text(json.dumps(point), encoding="utf-8")
        os.replace(temporary, self.spool / f"{name}.json")  # atomic: never half a point
        files = self._files()
        for old in files[: max(0, len(files) - self.max_points)]:
            old.unlink(missing_ok=True)
            self.dropped += 1

    def peek(self, limit: int) -> tuple[list[dict[str, Any]], list[Any]]:
        """Up to ``limit`` oldest points and the handles to ``remove`` them once sent."""
        if self.spool is None:
            points = [self.memory[i] for i in range(min(limit, len(self.memory)))]
            return points, list(range(len(points)))
        points, handles = [], []
        for path in self._files()[:limit]:
            try:
                points.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):  # a damaged file: drop it, keep the rest
                path.unlink(missing_ok=True)
                continue
            handles.append(path)
        return points, handles

    def remove(self, handles: list[Any]) -> None:
        if self.spool is None:
            for _ in handles:
                self.memory.popleft()
            return
        for path in handles:
            with contextlib.suppress(OSError):
                path.unlink()
