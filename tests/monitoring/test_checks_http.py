"""HTTP check executor against a real aiohttp server on loopback."""

from __future__ import annotations

import asyncio
import time

from opsassure.monitoring.checks import DEGRADED, DOWN, UP
from tests.monitoring.probe_helpers import http_target, run_one, silent_server, spec


def test_up_with_default_expectations() -> None:
    async def main() -> None:
        async with http_target() as target:
            outcome = await run_one(spec("http", f"{target.url}/ok"))
            assert (outcome.status, outcome.message) == (UP, "")
            assert outcome.response_ms is not None
            assert outcome.response_ms > 0
            assert target.hits == {"/ok": 1}

    asyncio.run(main())


def test_status_expectations() -> None:
    async def main() -> None:
        async with http_target() as target:
            down = await run_one(spec("http", f"{target.url}/status/500"))
            assert (down.status, down.message) == (DOWN, "HTTP 500, expected 200-399")
            listed = await run_one(
                spec("http", f"{target.url}/status/404", settings={"expected_status": [200, 404]})
            )
            assert listed.status == UP
            ranged = await run_one(
                spec("http", f"{target.url}/status/204", settings={"expected_status": "2xx"})
            )
            assert ranged.status == UP
            wrong = await run_one(
                spec("http", f"{target.url}/status/301", settings={"expected_status": "200-299"})
            )
            assert (wrong.status, wrong.message) == (DOWN, "HTTP 301, expected 200-299")
            posted = await run_one(
                spec(
                    "http",
                    f"{target.url}/status/201",
                    settings={"method": "POST", "expected_status": 201},
                )
            )
            assert posted.status == UP

    asyncio.run(main())


def test_keyword_and_json_path() -> None:
    async def main() -> None:
        async with http_target() as target:
            found = await run_one(spec("http", f"{target.url}/ok", settings={"keyword": "systems"}))
            assert found.status == UP
            missing = await run_one(spec("http", f"{target.url}/ok", settings={"keyword": "外"}))
            assert (missing.status, missing.message) == (DOWN, "keyword not found in the body")
            matched = await run_one(
                spec(
                    "http",
                    f"{target.url}/json",
                    settings={"json_path": "$.db.up", "json_expected": True},
                )
            )
            assert (matched.status, matched.message) == (UP, "")
            as_text = await run_one(
                spec(
                    "http",
                    f"{target.url}/json",
                    settings={"json_path": "$.db.lag", "json_expected": "3"},
                )
            )
            assert as_text.status == UP
            differs = await run_one(
                spec(
                    "http",
                    f"{target.url}/json",
                    settings={"json_path": "$.status", "json_expected": "degraded"},
                )
            )
            assert differs.status == DOWN
            assert differs.message == "JSON path $.status is \"ok\", expected 'degraded'"
            nothing = await run_one(
                spec("http", f"{target.url}/json", settings={"json_path": "$.nope"})
            )
            assert (nothing.status, nothing.message) == (DOWN, "JSON path $.nope matched nothing")
            not_json = await run_one(
                spec("http", f"{target.url}/ok", settings={"json_path": "$.status"})
            )
            assert not_json.status == DOWN
            assert not_json.message.startswith("body is not JSON: ")
            bad_path = await run_one(
                spec("http", f"{target.url}/json", settings={"json_path": "$[?(@.x"})
            )
            assert bad_path.status == DOWN
            assert bad_path.message.startswith("invalid settings: json_path: ")

    asyncio.run(main())


def test_slow_answer_is_degraded() -> None:
    async def main() -> None:
        async with http_target() as target:
            outcome = await run_one(
                spec("http", f"{target.url}/slow?ms=300", settings={"max_response_ms": 50})
            )
            assert outcome.status == DEGRADED
            assert outcome.response_ms is not None
            assert outcome.response_ms >= 300
            assert outcome.message == f"slow: {outcome.response_ms:.0f} ms > 50 ms"

    asyncio.run(main())


def test_redirect_policy() -> None:
    async def main() -> None:
        async with http_target() as target:
            followed = await run_one(
                spec("http", f"{target.url}/redirect", settings={"expected_status": 200})
            )
            assert followed.status == UP
            assert target.hits == {"/redirect": 1, "/ok": 1}
            kept = await run_one(
                spec(
                    "http",
                    f"{target.url}/redirect",
                    settings={"expected_status": 200, "follow_redirects": False},
                )
            )
            assert (kept.status, kept.message) == (DOWN, "HTTP 302, expected 200")
            assert target.hits == {"/redirect": 2, "/ok": 1}

    asyncio.run(main())


def test_huge_body_is_read_only_up_to_the_limit() -> None:
    async def main() -> None:
        async with http_target() as target:
            started = time.monotonic()
            outcome = await run_one(
                spec(
                    "http",
                    f"{target.url}/huge",
                    settings={"keyword": "needle", "max_body_bytes": 200_000},
                    timeout=10,
                )
            )
            assert (outcome.status, outcome.message) == (
                DOWN,
                "keyword not found in the body (first 200000 bytes)",
            )
            assert time.monotonic() - started < 5  # stopped at the limit, not at the timeout
            no_assertion = await run_one(spec("http", f"{target.url}/huge", timeout=10))
            assert no_assertion.status == UP  # status 200; the rest of the body is not read

    asyncio.run(main())


def test_never_answering_and_trickling_servers_time_out() -> None:
    async def main() -> None:
        async with silent_server() as port, http_target() as target:
            silent = await run_one(spec("http", f"http://127.0.0.1:{port}/", timeout=0.5))
            assert (silent.status, silent.message) == (DOWN, "timeout after 0.5 s")
            trickle = await run_one(
                spec("http", f"{target.url}/trickle", settings={"keyword": "!"}, timeout=0.7)
            )
            assert (trickle.status, trickle.message) == (DOWN, "timeout after 0.7 s")

    asyncio.run(main())


def test_retries_run_again_at_once() -> None:
    async def main() -> None:
        async with http_target() as target:
            outcome = await run_one(spec("http", f"{target.url}/flaky", retries=1))
            assert outcome.status == UP
            assert target.hits == {"/flaky": 2}

    asyncio.run(main())


def test_connection_refused_is_down() -> None:
    from tests.monitoring.probe_helpers import free_port

    async def main() -> None:
        outcome = await run_one(spec("http", f"http://127.0.0.1:{free_port()}/"))
        assert outcome.status == DOWN
        assert outcome.message.startswith("ClientConnectorError: Cannot connect to host 127.0.0.1")

    asyncio.run(main())
