"""Real loopback targets for the probe tests: an aiohttp server with many behaviours, a server
that accepts and never answers, a TLS server with its own CA, a UDP DNS responder."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from opsassure.monitoring.checks import CheckContext, CheckSpec, Outcome, run_check


def spec(kind: str, target: str, check_id: int = 1, **options: Any) -> CheckSpec:
    return CheckSpec(
        id=check_id,
        kind=kind,
        target=target,
        settings=options.pop("settings", {}),
        interval_seconds=options.pop("interval", 60),
        timeout_seconds=options.pop("timeout", 5.0),
        retries=options.pop("retries", 0),
        config_version=options.pop("version", 1),
    )


async def run_one(check: CheckSpec, context: CheckContext | None = None) -> Outcome:
    own = context is None
    context = context or CheckContext()
    try:
        return await run_check(check, context)
    finally:
        if own:
            await context.close()


@dataclass
class HttpTarget:
    url: str
    hits: dict[str, int] = field(default_factory=dict)


def _app(hits: dict[str, int]) -> web.Application:
    async def count(request: web.Request) -> None:
        hits[request.path] = hits.get(request.path, 0) + 1

    async def ok(request: web.Request) -> web.Response:
        await count(request)
        return web.Response(text="all systems go")

    async def status(request: web.Request) -> web.Response:
        await count(request)
        return web.Response(status=int(request.match_info["code"]), text="status")

    async def json_doc(request: web.Request) -> web.Response:
        await count(request)
        return web.json_response({"status": "ok", "db": {"up": True, "lag": 3}, "items": [1, 2]})

    async def slow(request: web.Request) -> web.Response:
        await count(request)
        await asyncio.sleep(int(request.query.get("ms", "300")) / 1000)
        return web.Response(text="slow but fine")

    async def redirect(request: web.Request) -> web.Response:
        await count(request)
        raise web.HTTPFound("/ok")

    async def huge(request: web.Request) -> web.StreamResponse:
        await count(request)
        response = web.StreamResponse()
        await response.prepare(request)
        chunk = b"x" * 65536
        with contextlib.suppress(ConnectionError):
            for _ in range(100_000):  # 6.5 GB if anyone read it all
                await response.write(chunk)
        return response

    async def trickle(request: web.Request) -> web.StreamResponse:
        await count(request)
        response = web.StreamResponse()
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):
            while True:
                await response.write(b".")
                await asyncio.sleep(0.2)
        return response

    async def flaky(request: web.Request) -> web.Response:
        await count(request)
        return web.Response(status=503 if hits[request.path] == 1 else 200, text="flaky")

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_route("*", "/status/{code}", status)
    app.router.add_get("/json", json_doc)
    app.router.add_get("/slow", slow)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/huge", huge)
    app.router.add_get("/trickle", trickle)
    app.router.add_get("/flaky", flaky)
    return app


@contextlib.asynccontextmanager
async def http_target() -> AsyncIterator[HttpTarget]:
    hits: dict[str, int] = {}
    runner = web.AppRunner(_app(hits), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield HttpTarget(f"http://127.0.0.1:{port}", hits)
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and never sends a byte (nor closes)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- TLS ------------------------------------------------------------------------------------


@dataclass
class Pki:
    ca_file: Path
    cert_file: Path
    key_file: Path
    not_after: dt.datetime


def make_pki(
    directory: Path,
    *,
    hostnames: tuple[str, ...] = ("localhost",),
    days: int = 90,
    expired: bool = False,
) -> Pki:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OpsAssure test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = now - dt.timedelta(days=1) if expired else now + dt.timedelta(days=days)
    names: list[x509.GeneralName] = []
    for host in hostnames:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=300))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    ca_file, cert_file = directory / "ca.pem", directory / "cert.pem"
    key_file = directory / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Pki(ca_file, cert_file, key_file, not_after)


@contextlib.asynccontextmanager
async def tls_server(pki: Pki) -> AsyncIterator[int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.cert_file, pki.key_file)

    async def greet(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            writer.close()
            await writer.wait_closed()

    server = await asyncio.start_server(greet, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


# --- DNS ------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def dns_server(records: dict[tuple[str, str], list[str]]) -> AsyncIterator[int]:
    """Answers from ``records`` {(name, type): [rdata text]}; unknown names get NXDOMAIN."""
    import dns.message
    import dns.rcode
    import dns.rrset

    names = {name for name, _type in records}

    class Responder(asyncio.DatagramProtocol):
        transport: asyncio.DatagramTransport

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport  # type: ignore[assignment]

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text().rstrip(".")
            kind = dns.rdatatype.to_text(question.rdtype)
            answers = records.get((name, kind))
            if answers:
                response.answer.append(
                    dns.rrset.from_text_list(question.name, 60, "IN", kind, answers)
                )
            elif name not in names:
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.transport.sendto(response.to_wire(), addr)

    import dns.rdatatype

    loop = asyncio.get_running_loop()
    transport, _protocol = await loop.create_datagram_endpoint(
        Responder, local_addr=("127.0.0.1", 0)
    )
    try:
        yield transport.get_extra_info("sockname")[1]
    finally:
        transport.close()
