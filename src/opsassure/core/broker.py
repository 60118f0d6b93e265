"""The embedded Celery broker: kombu's filesystem transport, made safe for concurrent use.

Why our own subclass: kombu's stock ``filesystem`` transport (5.x) creates each message
file under its final ``*.msg`` name and only then writes the payload. A worker that lists
the folder in between moves the still-empty file away, fails with ``JSONDecodeError`` and
the Celery worker exits ("Unrecoverable error") — the message is gone with it. We saw
exactly that under an alert burst on SQLite. Its consumer also moves claimed files to the
system temp folder, which may be another file system (a copy, not an atomic claim).

This subclass changes four things and nothing else:

* ``_put`` writes to a hidden temporary name in the same folder, flushes, and renames it
  to its final name — a rename is atomic on POSIX, so a reader sees a whole message or
  none;
* ``_get`` claims a message by ``os.rename`` into the processed folder, which lives on the
  same file system as the queue (the broker directory), so of several workers exactly one
  wins;
* names carry zero-padded nanoseconds, so messages come out in the order they went in;
* a message file that still cannot be decoded (a torn write after a power cut) is moved to
  ``failed/`` beside the queue and logged, instead of stopping the worker.

Messages stay files in ``OPSASSURE_DATA_DIR/broker``, so nothing changes for deployments;
nothing important lives only there anyway (tasks are re-driven from the database).
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from queue import Empty
from time import monotonic_ns
from typing import Any, BinaryIO

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

TEMP_PREFIX = ".part-"


class Channel(filesystem.Channel):
    # kombu's filesystem Channel already differs from its base here (payload, **kwargs).
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        # Nanoseconds, zero-padded: names sort in the order they were written (kombu's stock
        # milliseconds left messages of the same millisecond in random order).
        name = f"{monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        temp = os.path.join(self.data_folder_out, TEMP_PREFIX + name)
        data = str_to_bytes(dumps(payload))
        try:
            with open(temp, "wb") as f:
                self._write(f, data)
            os.rename(temp, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    @staticmethod
    def _write(f: BinaryIO, data: bytes) -> None:
        # A seam for the test that reads the queue in the middle of a write.
        f.write(data)
        f.flush()

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        suffix = f"{queue}.msg"
        claimed_dir = self.processed_folder
        os.makedirs(claimed_dir, exist_ok=True)
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.startswith(TEMP_PREFIX) or filename.partition(".")[2] != suffix:
                continue
            claimed = os.path.join(claimed_dir, filename)
            try:
                os.rename(os.path.join(self.data_folder_in, filename), claimed)
            except OSError:
                continue  # another worker claimed it first
            try:
                with open(claimed, "rb") as f:
                    raw = f.read()
                message = loads(bytes_to_str(raw))
            except (OSError, ValueError) as exc:
                self._quarantine(claimed, filename, exc)
                continue
            if not self.store_processed:
                with contextlib.suppress(OSError):
                    os.remove(claimed)
            return message
        raise Empty()

    def _quarantine(self, path: str, filename: str, exc: Exception) -> None:
        failed_dir = os.path.join(os.path.dirname(os.path.abspath(self.data_folder_in)), "failed")
        os.makedirs(failed_dir, exist_ok=True)
        with contextlib.suppress(OSError):
            os.rename(path, os.path.join(failed_dir, filename))
        logger.error("broker: unreadable message %s moved to %s (%s)", filename, failed_dir, exc)


class Transport(filesystem.Transport):
    Channel = Channel
