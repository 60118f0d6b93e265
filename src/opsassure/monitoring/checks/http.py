"""HTTP(S) check: method, headers, expected status, keyword or JSON-path assertion, response
time threshold (→ degraded), redirect policy, and a read limit on the body.

Speed matters here (20,000 checks a minute on one core): one shared aiohttp session with a
pooled connector, settings parsed once per config version, the body read only as far as the
assertions need and never past ``max_body_bytes``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from opsassure.monitoring.checks.base import (
    DEGRADED,
    DOWN,
    UP,
    CheckContext,
    CheckSpec,
    Outcome,
    SettingsError,
)

DEFAULT_MAX_BODY = 1024 * 1024
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def parse_status_ranges(value: Any) -> tuple[tuple[int, int], ...]:
    """``200``, ``[200, 204]``, ``"200-299"``, ``"2xx"`` or a list of those → ranges."""
    if value is None or value == "" or value == []:
        return ((200, 399),)
    items = value if isinstance(value, list) else [value]
    ranges: list[tuple[int, int]] = []
    for item in items:
        if isinstance(item, bool):
            raise SettingsError(f"bad expected_status {item!r}")
        if isinstance(item, int):
            ranges.append((item, item))
            continue
        text = str(item).strip().lower()
        if len(text) == 3 and text.endswith("xx") and text[0].isdigit():
            base = int(text[0]) * 100
            ranges.append((base, base + 99))
        elif "-" in text:
            low, _sep, high = text.partition("-")
            ranges.append((int(low), int(high)))
        elif text.isdigit():
            ranges.append((int(text), int(text)))
        else:
            raise SettingsError(f"bad expected_status {item!r}")
    return tuple(ranges)


@dataclass(frozen=True, slots=True)
class HttpSettings:
    method: str
    url: str
    headers: dict[str, str] | None
    body: str | None
    expected: tuple[tuple[int, int], ...]
    keyword: bytes | None
    json_path: Any  # a compiled jsonpath_ng expression
    json_path_text: str
    json_expected: Any
    has_json_expected: bool
    max_response_ms: float | None
    follow_redirects: bool
    max_redirects: int
    max_body_bytes: int
    ssl: Any  # None = default verification, False = none, or an SSLContext
    needs_body: bool


def prepare(spec: CheckSpec, context: CheckContext | None = None) -> HttpSettings:
    settings = spec.settings
    method = str(settings.get("method") or "GET").upper()
    if method not in METHODS:
        raise SettingsError(f"unsupported method {method}")
    headers = settings.get("headers") or None
    if headers is not None and not isinstance(headers, dict):
        raise SettingsError("headers must be an object")
    json_path = None
    if settings.get("json_path"):
        from jsonpath_ng.ext.parser import parse as parse_json_path

        try:
            json_path = parse_json_path(str(settings["json_path"]))
        except Exception as error:
            raise SettingsError(f"json_path: {error}") from error
    keyword = settings.get("keyword") or None
    max_ms: Any = settings.get("max_response_ms")
    ssl_option: Any = None
    verify = settings.get("verify_tls", True) is not False
    if not verify:
        ssl_option = False
    elif settings.get("ca_file") and context is not None:
        ssl_option = context.ssl_context(str(settings["ca_file"]))
    return HttpSettings(
        method=method,
        url=spec.target,
        headers={str(k): str(v) for k, v in headers.items()} if headers else None,
        body=str(settings["body"]) if settings.get("body") else None,
        expected=parse_status_ranges(settings.get("expected_status")),
        keyword=str(keyword).encode("utf-8") if keyword else None,
        json_path=json_path,
        json_path_text=str(settings.get("json_path") or ""),
        json_expected=settings.get("json_expected"),
        has_json_expected="json_expected" in settings and settings["json_expected"] is not None,
        max_response_ms=float(max_ms) if max_ms not in (None, "") else None,
        follow_redirects=settings.get("follow_redirects", True) is not False,
        max_redirects=int(settings.get("max_redirects") or 10),
        max_body_bytes=int(settings.get("max_body_bytes") or DEFAULT_MAX_BODY),
        ssl=ssl_option,
        needs_body=bool(keyword) or json_path is not None,
    )


def _status_ok(status: int, expected: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= status <= high for low, high in expected)


def _expected_text(expected: tuple[tuple[int, int], ...]) -> str:
    return ", ".join(str(low) if low == high else f"{low}-{high}" for low, high in expected)


async def _read_limited(response: Any, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes of the body; True if there was more (the rest is not read)."""
    content = response.content
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await content.readany()
        if not chunk:
            return b"".join(chunks), False
        size += len(chunk)
        if size > limit:
            chunks.append(chunk[: limit - (size - len(chunk))])
            return b"".join(chunks), True
        chunks.append(chunk)


def _json_matches(prepared: HttpSettings, body: bytes) -> str | None:
    """None if the JSON-path assertion holds, else why not."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        return f"body is not JSON: {error}"[:200]
    found = [match.value for match in prepared.json_path.find(document)]
    if not found:
        return f"JSON path {prepared.json_path_text} matched nothing"
    if not prepared.has_json_expected:
        return None
    expected = prepared.json_expected
    for value in found:
        if value == expected or (
            not isinstance(value, dict | list) and str(value) == str(expected)
        ):
            return None
    shown = json.dumps(found[0], ensure_ascii=False)[:80]
    return f"JSON path {prepared.json_path_text} is {shown}, expected {expected!r}"[:200]


async def run(spec: CheckSpec, context: CheckContext) -> Outcome:
    prepared: HttpSettings = context.prepare(spec, lambda s: prepare(s, context))
    session = context.session()
    started = time.perf_counter()
    async with session.request(
        prepared.method,
        prepared.url,
        headers=prepared.headers,
        data=prepared.body,
        allow_redirects=prepared.follow_redirects,
        max_redirects=prepared.max_redirects,
        ssl=prepared.ssl,
    ) as response:
        status = response.status
        truncated = False
        body = b""
        if prepared.method != "HEAD":
            # Read even when no assertion needs it: a fully read response goes back to the
            # pool (keep-alive); past the limit the connection is closed instead.
            body, truncated = await _read_limited(
                response, prepared.max_body_bytes if prepared.needs_body else 65536
            )
            if truncated:
                response.close()
        elapsed_ms = (time.perf_counter() - started) * 1000.0
    if not _status_ok(status, prepared.expected):
        return Outcome(
            DOWN, elapsed_ms, f"HTTP {status}, expected {_expected_text(prepared.expected)}"
        )
    if prepared.keyword is not None and prepared.keyword not in body:
        suffix = f" (first {prepared.max_body_bytes} bytes)" if truncated else ""
        return Outcome(DOWN, elapsed_ms, f"keyword not found in the body{suffix}")
    if prepared.json_path is not None:
        if truncated:
            return Outcome(
                DOWN, elapsed_ms, f"body larger than {prepared.max_body_bytes} bytes, not parsed"
            )
        problem = _json_matches(prepared, body)
        if problem is not None:
            return Outcome(DOWN, elapsed_ms, problem)
    if prepared.max_response_ms is not None and elapsed_ms > prepared.max_response_ms:
        return Outcome(
            DEGRADED,
            elapsed_ms,
            f"slow: {elapsed_ms:.0f} ms > {prepared.max_response_ms:g} ms",
        )
    return Outcome(UP, elapsed_ms)
