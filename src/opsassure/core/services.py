"""Core business operations: tokens, heartbeats, periodic schedules, users and teams."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from opsassure.core import audit
from opsassure.core.models import ApiToken, AuditEvent, Heartbeat, Lease, User


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown to the user once; never stored


def create_token(user: User, name: str, expires_at: dt.datetime | None = None) -> IssuedToken:
    """Issue a token acting as ``user``. The full key is returned once and only hashed at rest."""
    from opsassure.core.models.tokens import hash_secret

    if expires_at is not None and expires_at <= timezone.now():
        raise ValueError("expiry must be in the future")
    key_id, secret, key = ApiToken.generate()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            key_id=key_id,
            secret_hash=hash_secret(secret),
            expires_at=expires_at,
        )
        audit.record(
            AuditEvent.Action.TOKEN_CREATE,
            instance=token,
            customer_id=user.customer_id,
            changes={"name": [None, name]},
        )
    return IssuedToken(token=token, key=key)


def revoke_token(token: ApiToken) -> ApiToken:
    """Revoke a token (idempotent: revoking twice keeps the first time)."""
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if updated:
            audit.record(
                AuditEvent.Action.TOKEN_REVOKE, instance=token, customer_id=token.user.customer_id
            )
    token.refresh_from_db()
    return token


def authenticate_token(key: str) -> ApiToken | None:
    """The usable token for a presented key, or None. Constant-time secret comparison."""
    from opsassure.core.models.tokens import TOKEN_PREFIX

    if not key.startswith(TOKEN_PREFIX) or key.count("_") < 2:
        return None
    key_id, _, secret = key[len(TOKEN_PREFIX) :].partition("_")
    token = ApiToken.objects.usable().select_related("user").filter(key_id=key_id).first()
    if token is None or not token.matches(secret) or not token.user.is_active:
        return None
    now = timezone.now()
    # Write last-use at most once a minute: a hot token must not turn every read into a write.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def beat(kind: str, hostname: str) -> None:
    Heartbeat.objects.update_or_create(
        kind=kind, defaults={"seen_at": timezone.now(), "hostname": hostname[:255]}
    )


def hold_lease(name: str, holder: str, ttl_seconds: float) -> bool:
    """Take or renew the lease ``name`` for ``holder``; False while someone else holds it."""
    from django.db import IntegrityError

    now = timezone.now()
    expires = now + dt.timedelta(seconds=ttl_seconds)
    renewed = (
        Lease.objects.filter(name=name)
        .filter(models.Q(holder=holder) | models.Q(expires_at__lt=now))
        .update(holder=holder, expires_at=expires)
    )
    if renewed:
        return True
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, holder=holder, expires_at=expires)
    except IntegrityError:
        return False  # another holder created it first, or holds it
    return True


def heartbeat_age(kind: str) -> float | None:
    seen_at = Heartbeat.objects.filter(kind=kind).values_list("seen_at", flat=True).first()
    return None if seen_at is None else (timezone.now() - seen_at).total_seconds()


def ensure_periodic_tasks(**_: Any) -> None:
    """Seed the database-stored schedules that the platform itself needs (idempotent).

    Users may change the interval later in the UI; we only create what is missing.
    """
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    interval, _created = IntervalSchedule.objects.get_or_create(
        every=settings.HEARTBEAT_INTERVAL_SECONDS, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.get_or_create(
        name="core: heartbeat",
        defaults={
            "task": "opsassure.core.tasks.heartbeat",
            "interval": interval,
            "queue": "default",
            "description": "Proves that scheduler and worker run.",
        },
    )
