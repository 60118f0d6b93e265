"""Probe and agent credentials: ``opsp_<key_id>_<secret>`` / ``opsa_<key_id>_<secret>``.

Only the SHA-256 of the secret is stored; the full token is shown once, when created.
"""

from __future__ import annotations

import hmac
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from opsassure.core.models import Customer
from opsassure.core.models.tokens import hash_secret
from opsassure.monitoring.models import AgentToken, Probe, new_key_id
from opsassure.monitoring.models.metrics import AGENT_TOKEN_PREFIX
from opsassure.monitoring.models.probes import PROBE_TOKEN_PREFIX

LOCAL_PROBE_NAME = "local"


def _new_secret() -> tuple[str, str, str]:
    key_id = new_key_id()
    secret = secrets.token_urlsafe(32)
    return key_id, secret, hash_secret(secret)


def _split(token: str, prefix: str) -> tuple[str, str] | None:
    if not token.startswith(prefix) or len(token) > 200:
        return None
    key_id, _sep, secret = token[len(prefix) :].partition("_")
    if not key_id or not secret:
        return None
    return key_id, secret


def create_probe(
    *, name: str, zone: str = "", customer: Customer | None = None, is_local: bool = False
) -> tuple[Probe, str]:
    """A new probe and its token (returned once)."""
    key_id, secret, digest = _new_secret()
    probe = Probe.objects.create(
        name=name,
        zone=zone,
        customer=customer,
        is_local=is_local,
        key_id=key_id,
        secret_hash=digest,
    )
    return probe, f"{PROBE_TOKEN_PREFIX}{key_id}_{secret}"


def rotate_probe_token(probe: Probe) -> str:
    key_id, secret, digest = _new_secret()
    Probe.objects.filter(pk=probe.pk).update(key_id=key_id, secret_hash=digest, revoked_at=None)
    probe.key_id, probe.secret_hash, probe.revoked_at = key_id, digest, None
    return f"{PROBE_TOKEN_PREFIX}{key_id}_{secret}"


def ensure_local_probe() -> Probe:
    """The probe ``opsassure run`` starts (it talks to the database directly, no token)."""
    found = Probe.objects.filter(is_local=True).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            probe, _token = create_probe(name=LOCAL_PROBE_NAME, zone="local", is_local=True)
            return probe
    except IntegrityError:
        return Probe.objects.get(is_local=True)


def authenticate_probe(token: str) -> Probe | None:
    """The enabled, unrevoked probe this token belongs to, else None (the API answers 401)."""
    parts = _split(token, PROBE_TOKEN_PREFIX)
    if parts is None:
        return None
    probe = Probe.objects.filter(key_id=parts[0]).first()
    if probe is None or probe.revoked_at is not None or not probe.enabled:
        return None
    if not hmac.compare_digest(probe.secret_hash, hash_secret(parts[1])):
        return None
    return probe


def create_agent_token(*, customer: Customer, name: str) -> tuple[AgentToken, str]:
    key_id, secret, digest = _new_secret()
    row = AgentToken.objects.create(customer=customer, name=name, key_id=key_id, secret_hash=digest)
    return row, f"{AGENT_TOKEN_PREFIX}{key_id}_{secret}"


def authenticate_agent(token: str) -> AgentToken | None:
    parts = _split(token, AGENT_TOKEN_PREFIX)
    if parts is None:
        return None
    row = AgentToken.objects.filter(key_id=parts[0]).select_related("customer").first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_hash, hash_secret(parts[1])):
        return None
    return row


def revoke(row: Probe | AgentToken) -> bool:
    """Revoke a probe or agent token; True if it was active."""
    updated = (
        type(row)
        .objects.filter(pk=row.pk, revoked_at__isnull=True)
        .update(revoked_at=timezone.now())
    )
    return bool(updated)
