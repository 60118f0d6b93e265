"""TLS certificate check: days to expiry (``warn_days`` → degraded), chain validity against the
system CAs or ``ca_file``, host name match. A certificate that fails verification is reported
with the reason and, where the handshake still works unverified, its expiry date."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
import time
from typing import Any

from opsassure.monitoring.checks.base import (
    DEGRADED,
    DOWN,
    UP,
    CheckContext,
    CheckSpec,
    Outcome,
    split_host_port,
)

DEFAULT_WARN_DAYS = 14


async def _peer_certificate(
    host: str, port: int, server_name: str, context: ssl.SSLContext
) -> bytes | None:
    _reader, writer = await asyncio.open_connection(
        host, port, ssl=context, server_hostname=server_name
    )
    try:
        ssl_object: Any = writer.get_extra_info("ssl_object")
        return ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


def not_after(der: bytes) -> dt.datetime:
    from cryptography import x509

    return x509.load_der_x509_certificate(der).not_valid_after_utc


async def run(spec: CheckSpec, context: CheckContext) -> Outcome:
    settings = spec.settings
    host, port = split_host_port(spec.target, int(settings.get("port") or 443))
    if settings.get("port"):
        port = int(settings["port"])
    server_name = str(settings.get("server_name") or host)
    verify_chain = settings.get("verify_chain", True) is not False
    check_hostname = settings.get("check_hostname", True) is not False
    warn_days = float(settings.get("warn_days", DEFAULT_WARN_DAYS))
    ca_file = str(settings.get("ca_file") or "")
    started = time.perf_counter()
    problem = ""
    try:
        der = await _peer_certificate(
            host, port, server_name, context.ssl_context(ca_file, verify_chain, check_hostname)
        )
    except ssl.SSLCertVerificationError as error:
        problem = f"certificate not valid: {error.verify_message or error.reason}"
        der = await _peer_certificate(
            host, port, server_name, context.ssl_context(ca_file, verify=False)
        )
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    if der is None:
        return Outcome(DOWN, elapsed_ms, "no certificate presented")
    expires = not_after(der)
    days_left = (expires - dt.datetime.now(dt.UTC)).total_seconds() / 86400
    metric = {"name": "cert_days_left", "dimension": "", "value": round(days_left, 3), "unit": "d"}
    if problem:
        return Outcome(DOWN, elapsed_ms, problem[:300], expires, [metric])
    if days_left < 0:
        return Outcome(
            DOWN, elapsed_ms, f"certificate expired {expires:%Y-%m-%d}", expires, [metric]
        )
    if days_left < warn_days:
        return Outcome(
            DEGRADED,
            elapsed_ms,
            f"certificate expires in {days_left:.0f} days ({expires:%Y-%m-%d})",
            expires,
            [metric],
        )
    return Outcome(UP, elapsed_ms, "", expires, [metric])
