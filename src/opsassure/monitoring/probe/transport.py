"""How a probe talks to the server: over HTTP with its token (remote probes) or directly
through Django (the local probe inside ``opsassure run``)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from opsassure.monitoring.checks.base import CheckSpec
from opsassure.monitoring.probe.buffer import Batch

API = "/api/v1/monitoring/probe"


class TransportError(Exception):
    """The server is unreachable or failed (connection error, timeout, 5xx, 401): keep the
    results and try again later."""


class BatchRefusedError(Exception):
    """The server refused the batch itself (malformed, too large): re-sending cannot help."""


@dataclass(slots=True)
class Assignments:
    checks: list[CheckSpec]
    poll_seconds: float
    etag: str
    probe: dict[str, Any]


def parse_assignments(data: dict[str, Any], etag: str) -> Assignments:
    return Assignments(
        checks=[CheckSpec.from_json(item) for item in data.get("checks", [])],
        poll_seconds=float(data.get("poll_seconds") or 30),
        etag=etag,
        probe=dict(data.get("probe") or {}),
    )


class Transport(Protocol):
    async def assignments(self, etag: str | None) -> Assignments | None:
        """The checks to run, or None when unchanged since ``etag``."""

    async def send(self, batch: Batch) -> dict[str, Any]:
        """Deliver a batch; the server's answer (accepted, duplicates, refused)."""

    async def heartbeat(self, data: dict[str, Any]) -> None: ...

    async def close(self) -> None: ...


class HttpTransport:
    """The probe protocol over HTTP(S): ``Authorization: Bearer opsp_…``."""

    def __init__(self, server: str, token: str, *, timeout: float = 30.0, verify: Any = True):
        import httpx

        self._client = httpx.AsyncClient(
            base_url=server.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "User-Agent": "OpsAssure-probe"},
            timeout=timeout,
            verify=verify,
        )

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        try:
            response = await self._client.request(method, f"{API}{path}", **kwargs)
        except httpx.HTTPError as error:
            raise TransportError(f"{type(error).__name__}: {error}") from error
        if response.status_code in {400, 413}:
            raise BatchRefusedError(f"{response.status_code}: {response.text[:300]}")
        if response.status_code not in {200, 304}:
            raise TransportError(f"HTTP {response.status_code}: {response.text[:300]}")
        return response

    async def assignments(self, etag: str | None) -> Assignments | None:
        headers = {"If-None-Match": etag} if etag else {}
        response = await self._request("GET", "/assignments/", headers=headers)
        if response.status_code == 304:
            return None
        return parse_assignments(response.json(), response.headers.get("ETag", ""))

    async def send(self, batch: Batch) -> dict[str, Any]:
        payload = {"batch_id": batch.batch_id, "results": batch.results}
        response = await self._request("POST", "/results/", json=payload)
        answer: dict[str, Any] = response.json()
        return answer

    async def heartbeat(self, data: dict[str, Any]) -> None:
        await self._request("POST", "/heartbeat/", json=data)

    async def close(self) -> None:
        await self._client.aclose()


class LocalTransport:
    """The local probe: the same server functions the API calls, run in one worker thread (one
    database connection), so the event loop never waits on the database."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="probe-db")

    async def _call(self, function: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, _with_connection, function, *args)
        except (BatchRefusedError, TransportError):
            raise
        except Exception as error:  # the database is away: keep the results, retry later
            raise TransportError(f"{type(error).__name__}: {error}") from error

    async def assignments(self, etag: str | None) -> Assignments | None:
        result = await self._call(_local_assignments, etag)
        if result is None:
            return None
        data, new_etag = result
        return parse_assignments(data, new_etag)

    async def send(self, batch: Batch) -> dict[str, Any]:
        answer: dict[str, Any] = await self._call(
            _local_send, {"batch_id": batch.batch_id, "results": batch.results}
        )
        return answer

    async def heartbeat(self, data: dict[str, Any]) -> None:
        await self._call(_local_heartbeat, data)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool, _close_connection)
        self._pool.shutdown(wait=True)


def _with_connection(function: Any, *args: Any) -> Any:
    from django.db import close_old_connections

    close_old_connections()
    return function(*args)


def _close_connection() -> None:
    from django.db import connection

    connection.close()


def _local_assignments(etag: str | None) -> tuple[dict[str, Any], str] | None:
    from opsassure.monitoring import probing, tokens

    data, new_etag = probing.assignments_payload(tokens.ensure_local_probe())
    return None if etag == new_etag else (data, new_etag)


def _local_send(payload: dict[str, Any]) -> dict[str, Any]:
    from opsassure.monitoring import probing, tokens

    try:
        batch_id, results = probing.parse_results(payload)
    except probing.ProtocolError as error:
        raise BatchRefusedError(str(error)) from error
    return probing.accept_results(tokens.ensure_local_probe(), batch_id, results).as_json()


def _local_heartbeat(data: dict[str, Any]) -> None:
    from opsassure.monitoring import probing, tokens

    probing.record_heartbeat(tokens.ensure_local_probe(), data)
