"""Writing and verifying the hash-chained audit trail.

Model changes are captured generically for every ``AuditedModel`` subclass through Django's
model signals (a cross-cutting concern, like django-auditlog does it; domain decisions never
live here). Events are written inside the caller's transaction, so a rolled-back change
leaves no event and a committed change always has one.
"""

from __future__ import annotations

import contextvars
import hashlib
import ipaddress
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest
from django.utils import timezone

from opsassure.core.models.audit import AuditEvent
from opsassure.core.models.base import AuditedModel

GENESIS_HASH = "0" * 64
# Arbitrary constant identifying the audit chain's PostgreSQL advisory lock.
_PG_AUDIT_LOCK_KEY = 7_270_001


@dataclass(frozen=True)
class AuditContext:
    request: HttpRequest | None = None
    actor_id: int | None = None
    actor_username: str = ""
    ip: str | None = None
    request_id: str = ""


_context: contextvars.ContextVar[AuditContext] = contextvars.ContextVar(
    "opsassure_audit_context",
    default=AuditContext(actor_username="system"),  # noqa: B039 - frozen, so never mutated
)


@contextmanager
def audit_context(context: AuditContext) -> Iterator[None]:
    token = _context.set(context)
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> AuditContext:
    """Who the events written now are attributed to (the request, or a job's actor)."""
    return _context.get()


def client_ip(request: HttpRequest) -> str | None:
    """The client's address; behind a trusted proxy, the right-most untrusted X-Forwarded-For.

    Only a peer listed in TRUSTED_PROXIES is believed, and only for what it appended (the
    right end of the header): a client cannot spoof its address by sending the header itself.
    (django-ipware counts proxies *inside* the header, which does not fit "trust the socket
    peer"; the rule is five lines.)
    """
    from django.conf import settings

    peer = request.META.get("REMOTE_ADDR") or None
    if not settings.BEHIND_PROXY or peer not in settings.TRUSTED_PROXIES:
        return peer
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if hop not in settings.TRUSTED_PROXIES:
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return peer


def _actor() -> tuple[int | None, str, str | None, str]:
    context = _context.get()
    request = context.request
    if request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user.pk, user.get_username(), client_ip(request), context.request_id
        return None, "", client_ip(request), context.request_id
    return context.actor_id, context.actor_username, context.ip, context.request_id


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def compute_hash(fields: dict[str, Any]) -> str:
    canonical = json.dumps(
        fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _hashed_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "action": event.action,
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "customer_id": event.customer_id,
        "changes": event.changes,
        "ip": event.ip,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }


def tenant_customer_id(instance: models.Model) -> int | None:
    """The customer a row belongs to, following the model's ``tenant_field`` path."""
    # Same default as TenantQuerySet: a model without tenant_field is owned via "customer".
    path: str | None = getattr(type(instance), "tenant_field", "customer")
    if path is None:
        return None
    if path == "pk":
        return instance.pk
    *hops, last = path.split("__")
    target: Any = instance
    for hop in hops:
        target = getattr(target, hop, None)
        if target is None:
            return None
    return getattr(target, f"{last}_id", None)


def _lock_chain() -> tuple[int, str]:
    """Take the chain's write lock (inside the caller's atomic block); return the next seq/prev."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_AUDIT_LOCK_KEY])
    # On SQLite the IMMEDIATE transaction already holds the database's write lock.
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    return (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)


@dataclass(frozen=True)
class PendingEvent:
    """One event for ``record_many``: the same values ``record`` takes, resolved up front."""

    action: str
    object_type: str = ""
    object_id: str = ""
    object_repr: str = ""
    customer_id: int | None = None
    changes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        action: str,
        instance: models.Model,
        changes: dict[str, Any] | None = None,
        customer_id: int | None = None,
    ) -> PendingEvent:
        """An event about ``instance``, described the way ``record(instance=…)`` does."""
        return cls(
            action=action,
            object_type=instance._meta.label_lower,
            object_id=str(instance.pk),
            object_repr=str(instance)[:200],
            customer_id=customer_id if customer_id is not None else tenant_customer_id(instance),
            changes=changes or {},
        )


def _chained_event(
    pending: PendingEvent,
    *,
    seq: int,
    prev_hash: str,
    occurred_at: datetime,
    actor: tuple[int | None, str, str | None, str],
) -> AuditEvent:
    actor_id, username, ip, request_id = actor
    event = AuditEvent(
        seq=seq,
        occurred_at=occurred_at,
        action=pending.action,
        actor_id=actor_id,
        actor_username=username[:150],
        object_type=pending.object_type[:100],
        object_id=pending.object_id[:64],
        object_repr=pending.object_repr[:200],
        customer_id=pending.customer_id,
        changes=_jsonable(pending.changes),
        ip=ip,
        request_id=request_id[:64],
        prev_hash=prev_hash,
    )
    event.hash = compute_hash(_hashed_fields(event))
    return event


def record(
    action: str,
    *,
    instance: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    customer_id: int | None = None,
    actor_username: str | None = None,
) -> AuditEvent:
    """Append one event to the chain (inside the current transaction, if any)."""
    actor_id, username, ip, request_id = _actor()
    if actor_username is not None and not username:
        username = actor_username
    if instance is not None:
        object_type = object_type or instance._meta.label_lower
        object_id = object_id or str(instance.pk)
        object_repr = object_repr or str(instance)[:200]
        if customer_id is None:
            customer_id = tenant_customer_id(instance)
    pending = PendingEvent(
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        customer_id=customer_id,
        changes=changes or {},
    )
    with transaction.atomic():
        seq, prev_hash = _lock_chain()
        event = _chained_event(
            pending,
            seq=seq,
            prev_hash=prev_hash,
            occurred_at=timezone.now(),
            actor=(actor_id, username, ip, request_id),
        )
        event.save(force_insert=True)
    return event


def record_many(
    events: Iterable[PendingEvent],
    *,
    actor_username: str | None = None,
    batch_size: int = 1000,
) -> int:
    """Append many events under one lock (bulk imports): same chain, one round trip per batch.

    Events get consecutive sequence numbers in the order given, one timestamp, and the actor
    of the current audit context, exactly as ``record`` would give them one by one.
    """
    actor_id, username, ip, request_id = _actor()
    if actor_username is not None and not username:
        username = actor_username
    actor = (actor_id, username, ip, request_id)
    written = 0
    with transaction.atomic():
        seq, prev_hash = _lock_chain()
        now = timezone.now()
        batch: list[AuditEvent] = []
        for pending in events:
            event = _chained_event(
                pending, seq=seq, prev_hash=prev_hash, occurred_at=now, actor=actor
            )
            batch.append(event)
            seq, prev_hash = seq + 1, event.hash
            if len(batch) >= batch_size:
                AuditEvent.objects.bulk_create(batch)
                written += len(batch)
                batch = []
        if batch:
            AuditEvent.objects.bulk_create(batch)
            written += len(batch)
    return written


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify_chain(progress: Any = None, batch_size: int = 2000) -> VerifyResult:
    """Walk the chain in order and report the first event whose link or content is broken."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return VerifyResult(checked, expected_seq, f"event #{expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return VerifyResult(checked, event.seq, "link to the previous event is broken")
        if compute_hash(_hashed_fields(event)) != event.hash:
            return VerifyResult(checked, event.seq, "content does not match its hash")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
        if progress is not None:
            progress(1)
    return VerifyResult(checked)


# --- Generic capture of model changes ------------------------------------------------------


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


def _on_save(
    sender: type[models.Model], instance: models.Model, created: bool, raw: bool = False, **_: Any
) -> None:
    if raw or not isinstance(instance, AuditedModel):
        return
    after = instance.audit_snapshot()
    if created:
        changes = {name: [None, value] for name, value in after.items() if value not in (None, "")}
        record(AuditEvent.Action.CREATE, instance=instance, changes=changes)
    else:
        before = getattr(instance, "_loaded_values", {})
        changes = _diff(before, after)
        if not changes:
            return
        record(AuditEvent.Action.UPDATE, instance=instance, changes=changes)
    instance._loaded_values = {**getattr(instance, "_loaded_values", {}), **after}


def _on_delete(sender: type[models.Model], instance: models.Model, **_: Any) -> None:
    if not isinstance(instance, AuditedModel):
        return
    before = instance.audit_snapshot()
    changes = {name: [value, None] for name, value in before.items() if value not in (None, "")}
    record(AuditEvent.Action.DELETE, instance=instance, changes=changes)


def _m2m_field_name(instance: models.Model, through: type[models.Model], reverse: bool) -> str:
    if not reverse:
        for field in instance._meta.many_to_many:
            if field.remote_field.through is through:
                return field.name
    for relation in instance._meta.related_objects:
        if relation.many_to_many and relation.through is through:  # type: ignore[attr-defined]
            return relation.get_accessor_name() or relation.name
    return through._meta.model_name or "relation"


def _on_m2m(
    sender: type[models.Model],
    instance: models.Model,
    action: str,
    reverse: bool,
    model: type[models.Model],
    pk_set: set[Any] | None,
    **_: Any,
) -> None:
    if not isinstance(instance, AuditedModel) or action not in {
        "post_add",
        "post_remove",
        "pre_clear",
    }:
        return
    name = _m2m_field_name(instance, sender, reverse)
    if action == "pre_clear":
        accessor = getattr(instance, name)
        pk_set = set(accessor.values_list("pk", flat=True))
        if not pk_set:
            return
    key = "added" if action == "post_add" else "removed"
    if not pk_set:
        return
    labels = [str(obj) for obj in model._default_manager.filter(pk__in=pk_set).order_by("pk")]
    record(AuditEvent.Action.UPDATE, instance=instance, changes={name: {key: labels}})


def connect_model_signals() -> None:
    post_save.connect(_on_save, dispatch_uid="opsassure_audit_save")
    post_delete.connect(_on_delete, dispatch_uid="opsassure_audit_delete")
    m2m_changed.connect(_on_m2m, dispatch_uid="opsassure_audit_m2m")
