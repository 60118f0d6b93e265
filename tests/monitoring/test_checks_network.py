"""TCP, ICMP, TLS and DNS executors against real loopback servers."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from pathlib import Path

import pytest

from opsassure.monitoring.checks import DEGRADED, DOWN, UP, CheckContext
from opsassure.monitoring.checks.icmp import _binary, choose_mode
from tests.monitoring.probe_helpers import (
    dns_server,
    free_port,
    make_pki,
    run_one,
    silent_server,
    spec,
    tls_server,
)


def test_tcp_open_and_closed_ports() -> None:
    async def main() -> None:
        async with silent_server() as port:
            opened = await run_one(spec("tcp", f"127.0.0.1:{port}"))
            assert (opened.status, opened.message) == (UP, "")
            by_setting = await run_one(spec("tcp", "127.0.0.1", settings={"port": port}))
            assert by_setting.status == UP
        closed_port = free_port()
        closed = await run_one(spec("tcp", f"127.0.0.1:{closed_port}"))
        assert closed.status == DOWN
        assert closed.message == (
            f"ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', {closed_port})"
        )
        no_port = await run_one(spec("tcp", "127.0.0.1"))
        assert (no_port.status, no_port.message) == (DOWN, "invalid settings: no port")

    asyncio.run(main())


def test_icmp_loopback_answers_and_a_blackhole_does_not() -> None:
    context = CheckContext()
    if choose_mode(context) == "none":
        pytest.skip("no ICMP permission and no ping binary here")

    async def main() -> None:
        try:
            up = await run_one(spec("icmp", "127.0.0.1", settings={"count": 2}), context)
            assert (up.status, up.message) == (UP, "")
            assert up.response_ms is not None
            assert up.response_ms >= 0
            # TEST-NET-2 (RFC 5737): documentation addresses, nothing answers.
            lost = await run_one(spec("icmp", "198.51.100.7", settings={"count": 1}), context)
            assert (lost.status, lost.message) == (DOWN, "no reply (1 sent)")
            assert lost.response_ms is None
        finally:
            await context.close()

    asyncio.run(main())
    assert context.icmp_mode in {"unprivileged", "privileged", "binary"}


@pytest.mark.skipif(shutil.which("ping") is None, reason="no ping binary on this machine")
def test_icmp_through_the_ping_binary() -> None:
    received, average = asyncio.run(_binary("127.0.0.1", 2, 1.0))
    assert received == 2
    assert average is not None
    assert average >= 0


def test_tls_valid_expiring_mismatched_untrusted_and_expired(tmp_path: Path) -> None:
    good = make_pki(tmp_path / "good", hostnames=("localhost", "127.0.0.1"), days=90)
    soon = make_pki(tmp_path / "soon", hostnames=("localhost",), days=5)
    expired = make_pki(tmp_path / "expired", hostnames=("localhost",), expired=True)

    async def main() -> None:
        async with tls_server(good) as port:
            valid = await run_one(
                spec(
                    "tls",
                    f"127.0.0.1:{port}",
                    settings={"server_name": "localhost", "ca_file": str(good.ca_file)},
                )
            )
            assert (valid.status, valid.message) == (UP, "")
            assert valid.cert_expires_at == good.not_after
            assert [m["name"] for m in valid.metrics] == ["cert_days_left"]
            assert 89.9 < valid.metrics[0]["value"] <= 90
            mismatch = await run_one(
                spec(
                    "tls",
                    f"127.0.0.1:{port}",
                    settings={"server_name": "other.example", "ca_file": str(good.ca_file)},
                )
            )
            assert mismatch.status == DOWN
            assert mismatch.message == (
                "certificate not valid: Hostname mismatch, certificate is not valid for "
                "'other.example'."
            )
            untrusted = await run_one(
                spec("tls", f"localhost:{port}")  # the system CAs do not know our test CA
            )
            assert untrusted.status == DOWN
            assert untrusted.message == (
                "certificate not valid: unable to get local issuer certificate"
            )
            assert untrusted.cert_expires_at == good.not_after  # still read, unverified
            unchecked = await run_one(
                spec("tls", f"localhost:{port}", settings={"verify_chain": False})
            )
            assert unchecked.status == UP
        async with tls_server(soon) as port:
            warned = await run_one(
                spec(
                    "tls",
                    f"localhost:{port}",
                    settings={"ca_file": str(soon.ca_file), "warn_days": 14},
                )
            )
            assert warned.status == DEGRADED
            assert warned.message == (f"certificate expires in 5 days ({soon.not_after:%Y-%m-%d})")
        async with tls_server(expired) as port:
            gone = await run_one(
                spec("tls", f"localhost:{port}", settings={"ca_file": str(expired.ca_file)})
            )
            assert (gone.status, gone.message) == (
                DOWN,
                "certificate not valid: certificate has expired",
            )
            assert gone.cert_expires_at == expired.not_after
            assert gone.cert_expires_at < dt.datetime.now(dt.UTC)

    asyncio.run(main())


def test_dns_answers_expectations_and_failures() -> None:
    records = {
        ("app.example.test", "A"): ["192.0.2.10", "192.0.2.11"],
        ("example.test", "MX"): ["10 Mail.Example.Test."],
        ("example.test", "TXT"): ['"v=spf1 -all"'],
    }

    async def main() -> None:
        async with dns_server(records) as port:

            def dns(target: str, **settings: object) -> object:
                return spec(
                    "dns",
                    target,
                    settings={"nameservers": ["127.0.0.1"], "port": port, **settings},
                    timeout=2,
                )

            up = await run_one(dns("app.example.test", expected=["192.0.2.11"]))  # type: ignore[arg-type]
            assert (up.status, up.message) == (UP, "")
            assert up.response_ms is not None
            mx = await run_one(
                dns("example.test", record_type="MX", expected="10 mail.example.test")  # type: ignore[arg-type]
            )
            assert mx.status == UP
            txt = await run_one(dns("example.test", record_type="TXT", expected="v=spf1 -all"))  # type: ignore[arg-type]
            assert txt.status == UP
            wrong = await run_one(dns("app.example.test", expected=["192.0.2.99"]))  # type: ignore[arg-type]
            assert (wrong.status, wrong.message) == (
                DOWN,
                "expected 192.0.2.99; got 192.0.2.10, 192.0.2.11",
            )
            missing = await run_one(dns("nowhere.example.test"))  # type: ignore[arg-type]
            assert (missing.status, missing.message) == (
                DOWN,
                "nowhere.example.test: no such domain",
            )
            no_record = await run_one(dns("app.example.test", record_type="AAAA"))  # type: ignore[arg-type]
            assert (no_record.status, no_record.message) == (
                DOWN,
                "app.example.test: no AAAA record",
            )
            unknown = await run_one(dns("app.example.test", record_type="XYZ"))  # type: ignore[arg-type]
            assert (unknown.status, unknown.message) == (
                DOWN,
                "invalid settings: unknown record type XYZ",
            )

    asyncio.run(main())


def test_dns_server_that_never_answers_times_out() -> None:
    async def main() -> None:
        import socket

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
            quiet.bind(("127.0.0.1", 0))
            port = quiet.getsockname()[1]
            outcome = await run_one(
                spec(
                    "dns",
                    "app.example.test",
                    timeout=0.5,
                    settings={"nameservers": ["127.0.0.1"], "port": port},
                )
            )
        assert outcome.status == DOWN
        assert outcome.message in {"DNS timeout after 0.5 s", "timeout after 0.5 s"}

    asyncio.run(main())
