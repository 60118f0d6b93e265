"""What a probe runs and what it reports: ``CheckSpec`` in, ``Outcome`` out.

This package imports no Django: remote probes run it with aiohttp, dnspython, icmplib,
cryptography and prometheus-client only. Outcome messages are short technical diagnostics in
English (like the operating system's own error texts), written by the probe that ran the check.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

UP = 0
DEGRADED = 1
DOWN = 2

MESSAGE_MAX = 300


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One assigned check, as the server describes it (``GET …/probe/assignments/``)."""

    id: int
    kind: str
    target: str
    settings: dict[str, Any]
    interval_seconds: float
    timeout_seconds: float
    retries: int = 0
    config_version: int = 1

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckSpec:
        return cls(
            id=int(data["id"]),
            kind=str(data["kind"]),
            target=str(data["target"]),
            settings=dict(data.get("settings") or {}),
            interval_seconds=float(data["interval_seconds"]),
            timeout_seconds=float(data["timeout_seconds"]),
            retries=int(data.get("retries") or 0),
            config_version=int(data.get("config_version") or 1),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "target": self.target,
            "settings": self.settings,
            "interval_seconds": self.interval_seconds,
            "timeout_seconds": self.timeout_seconds,
            "retries": self.retries,
            "config_version": self.config_version,
        }


@dataclass(slots=True)
class Outcome:
    """One execution's verdict: ``status`` 0 up, 1 degraded, 2 down."""

    status: int
    response_ms: float | None = None
    message: str = ""
    cert_expires_at: dt.datetime | None = None
    # {"name": str, "dimension": str, "value": float, "unit": str}
    metrics: list[dict[str, Any]] = field(default_factory=list)


def down(message: str, response_ms: float | None = None) -> Outcome:
    return Outcome(DOWN, response_ms, message[:MESSAGE_MAX])


def describe(error: BaseException) -> str:
    """A one-line reason for an exception (the class name when the text is empty)."""
    text = str(error).strip()
    name = type(error).__name__
    return (f"{name}: {text}" if text else name)[:MESSAGE_MAX]


class CheckContext:
    """What executors share inside one probe process: the HTTP session (one connection pool),
    per-check prepared settings (parsed once per config version) and per-check state (the
    node_exporter counters of the previous scrape)."""

    def __init__(self, *, concurrency: int = 500, user_agent: str = "OpsAssure-probe") -> None:
        self.concurrency = concurrency
        self.user_agent = user_agent
        self.prepared: dict[int, tuple[int, Any]] = {}
        self.state: dict[int, Any] = {}
        self.icmp_mode: str | None = None  # "unprivileged" | "privileged" | "binary"
        self._session: Any = None
        self._ssl_contexts: dict[tuple[str, bool, bool], ssl.SSLContext] = {}

    def session(self) -> Any:
        """The shared aiohttp ``ClientSession`` (created on first use, inside the loop)."""
        if self._session is None:
            import aiohttp

            connector = aiohttp.TCPConnector(
                limit=self.concurrency,
                limit_per_host=0,
                ttl_dns_cache=300,
                keepalive_timeout=75,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                # The executor wraps each attempt in asyncio.timeout: one timer per check.
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=None, sock_read=None),
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": self.user_agent},
                auto_decompress=True,
            )
        return self._session

    def ssl_context(self, ca_file: str = "", verify: bool = True, hostname: bool = True) -> Any:
        key = (ca_file, verify, hostname)
        found = self._ssl_contexts.get(key)
        if found is None:
            found = ssl.create_default_context(cafile=ca_file or None)
            found.check_hostname = verify and hostname
            if not verify:
                found.verify_mode = ssl.CERT_NONE
            self._ssl_contexts[key] = found
        return found

    def prepare(self, spec: CheckSpec, build: Callable[[CheckSpec], Any]) -> Any:
        """``build(spec)`` once per (check, config version)."""
        cached = self.prepared.get(spec.id)
        if cached is not None and cached[0] == spec.config_version:
            return cached[1]
        value = build(spec)
        self.prepared[spec.id] = (spec.config_version, value)
        return value

    def forget(self, check_id: int) -> None:
        self.prepared.pop(check_id, None)
        self.state.pop(check_id, None)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


Executor = Callable[[CheckSpec, CheckContext], Awaitable[Outcome]]


class SettingsError(ValueError):
    """A check's settings the probe cannot use (the server validates them; this is a guard)."""


async def run_attempts(executor: Executor, spec: CheckSpec, context: CheckContext) -> Outcome:
    """Run once, plus ``retries`` immediate retries while the result is down; each attempt is
    bounded by the check's timeout, so a target that never answers cannot stall the probe."""
    outcome = down("not run")
    for _attempt in range(spec.retries + 1):
        try:
            async with asyncio.timeout(spec.timeout_seconds):
                outcome = await executor(spec, context)
        except TimeoutError:
            outcome = down(f"timeout after {spec.timeout_seconds:g} s")
        except SettingsError as error:
            return down(f"invalid settings: {error}")
        except asyncio.CancelledError:
            raise
        except Exception as error:
            outcome = down(describe(error))
        if outcome.status != DOWN:
            return outcome
    return outcome


def split_host_port(target: str, default_port: int) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` or a URL → (host, port)."""
    text = target.strip()
    if "://" in text:
        from urllib.parse import urlsplit

        parts = urlsplit(text)
        if not parts.hostname:
            raise SettingsError(f"no host in {target!r}")
        return parts.hostname, parts.port or default_port
    if text.startswith("["):
        host, _sep, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if text.count(":") == 1:
        host, _sep, port = text.partition(":")
        return host, int(port)
    return text, default_port
