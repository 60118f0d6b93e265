"""DNS check: resolve ``target`` as ``record_type`` (default A) against the given
``nameservers`` (else the system's), optionally requiring ``expected`` answers (every expected
value must be among the answers; case and trailing dots do not matter)."""

from __future__ import annotations

import time
from typing import Any

from opsassure.monitoring.checks.base import (
    DOWN,
    UP,
    CheckContext,
    CheckSpec,
    Outcome,
    SettingsError,
)

RECORD_TYPES = frozenset(
    {"A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT", "CAA", "DS", "DNSKEY"}
)


def _normalise(text: str) -> str:
    text = text.strip().lower()
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        text = text[1:-1]
    return text.rstrip(".")


def _resolver(spec: CheckSpec) -> tuple[Any, str, tuple[str, ...]]:
    import dns.asyncresolver

    settings = spec.settings
    record_type = str(settings.get("record_type") or "A").upper()
    if record_type not in RECORD_TYPES:
        raise SettingsError(f"unknown record type {record_type}")
    expected = settings.get("expected") or []
    if isinstance(expected, str):
        expected = [expected]
    servers = settings.get("nameservers") or []
    if isinstance(servers, str):
        servers = [servers]
    resolver = dns.asyncresolver.Resolver(configure=not servers)
    if servers:
        resolver.nameservers = [str(server) for server in servers]
    if settings.get("port"):
        resolver.port = int(settings["port"])
    resolver.cache = None
    return resolver, record_type, tuple(_normalise(str(item)) for item in expected)


async def run(spec: CheckSpec, context: CheckContext) -> Outcome:
    import dns.exception
    import dns.resolver

    resolver, record_type, expected = context.prepare(spec, _resolver)
    started = time.perf_counter()
    try:
        answer = await resolver.resolve(
            spec.target, record_type, lifetime=spec.timeout_seconds, search=False
        )
    except dns.resolver.NXDOMAIN:
        return Outcome(DOWN, None, f"{spec.target}: no such domain")
    except dns.resolver.NoAnswer:
        return Outcome(DOWN, None, f"{spec.target}: no {record_type} record")
    except dns.resolver.NoNameservers as error:
        return Outcome(DOWN, None, f"no name server answered: {error}"[:300])
    except dns.exception.Timeout:
        return Outcome(DOWN, None, f"DNS timeout after {spec.timeout_seconds:g} s")
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    answers = {_normalise(rdata.to_text()) for rdata in answer}
    missing = [item for item in expected if item not in answers]
    if missing:
        got = ", ".join(sorted(answers))[:150]
        return Outcome(DOWN, elapsed_ms, f"expected {', '.join(missing)}; got {got}"[:300])
    return Outcome(UP, elapsed_ms)
