"""The notifications outbox: the one way every module tells someone something.

``enqueue`` writes one outbox row in the caller's transaction and sends it after commit;
``notify_user`` applies a user's rules and quiet hours and renders the template in their
language; ``notify_destination`` renders for a bot, webhook or gateway. A row is unique by
its ``dedup_key``: calling twice returns the first row and sends nothing new.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from opsassure.core.jobs import enqueue_on_commit
from opsassure.core.models import Customer, User
from opsassure.notify import conf, rendering
from opsassure.notify.models import (
    Channel,
    Destination,
    Notification,
    NotificationRule,
    Severity,
    source_type_of,
)

logger = logging.getLogger(__name__)
DEFAULT_USER_CHANNELS = (Channel.EMAIL,)


def enqueue(
    *,
    channel: str,
    dedup_key: str,
    subject: str,
    body: str,
    address: str = "",
    user: User | None = None,
    destination: Destination | None = None,
    customer: Customer | None = None,
    severity: str = "info",
    source: models.Model | None = None,
    payload: dict[str, Any] | None = None,
    language: str = "",
) -> Notification:
    """Write one outbox row (idempotent on ``dedup_key``) and send it once committed.

    Returns the existing row, unchanged, when ``dedup_key`` was used before.
    """
    return _enqueue(
        channel=channel,
        dedup_key=dedup_key,
        subject=subject,
        body=body,
        address=address,
        user=user,
        destination=destination,
        customer=customer,
        severity=severity,
        source=source,
        payload=payload,
        language=language,
    )


def _enqueue(
    *,
    channel: str,
    dedup_key: str,
    subject: str,
    body: str,
    address: str = "",
    user: User | None = None,
    destination: Destination | None = None,
    customer: Customer | None = None,
    severity: str = "info",
    source: models.Model | None = None,
    payload: dict[str, Any] | None = None,
    language: str = "",
    next_attempt_at: dt.datetime | None = None,
    failed_because: str = "",
) -> Notification:
    if channel not in Channel.values:
        raise ValueError(f"unknown notification channel {channel!r}")
    if severity not in Severity.values:
        raise ValueError(f"unknown severity {severity!r}")
    if not dedup_key or len(dedup_key) > 255:
        raise ValueError("dedup_key must have 1 to 255 characters")
    if destination is not None and destination.kind != channel:
        raise ValueError(f"destination {destination.pk} is {destination.kind}, not {channel}")
    if customer is None:
        customer_id = destination.customer_id if destination is not None else None
        if customer_id is None and user is not None:
            customer_id = user.customer_id
    else:
        customer_id = customer.pk
    state = Notification.State.FAILED if failed_because else Notification.State.PENDING
    with transaction.atomic():
        row, created = Notification.objects.get_or_create(
            dedup_key=dedup_key,
            defaults={
                "channel": channel,
                "subject": rendering.one_line(subject)[:500],
                "body": body,
                "address": address,
                "user": user,
                "destination": destination,
                "customer_id": customer_id,
                "severity": severity,
                "source_type": source_type_of(source) if source is not None else "",
                "source_id": str(source.pk) if source is not None else "",
                "payload": payload or {},
                "language": language,
                "state": state,
                "next_attempt_at": next_attempt_at,
                "last_error": failed_because,
            },
        )
        if created and state == Notification.State.PENDING and next_attempt_at is None:
            from opsassure.notify import tasks

            enqueue_on_commit(tasks.notify_send, row.pk)
    return row


def user_language(user: User) -> str:
    return user.language or conf.default_language()


def rule_for(user: User, severity: str) -> NotificationRule | None:
    """The user's first enabled rule (by order) that covers ``severity``."""
    for rule in NotificationRule.objects.filter(user=user, enabled=True).order_by("order", "pk"):
        if rule.matches(severity):
            return rule
    return None


def quiet_until(rule: NotificationRule | None, user: User, at: dt.datetime) -> dt.datetime | None:
    """End of the quiet hours ``at`` falls in (UTC), or None when it falls outside them.

    Quiet hours are wall-clock times in the user's zone and may span midnight (22:00–07:00).
    """
    if rule is None or rule.quiet_start is None or rule.quiet_end is None:
        return None
    if rule.quiet_start == rule.quiet_end:
        return None
    try:
        zone = zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("Asia/Shanghai")
    local = at.astimezone(zone)
    start, end, now = rule.quiet_start, rule.quiet_end, local.time()
    if start < end:
        inside = start <= now < end
        end_day = local.date()
    else:  # spans midnight
        inside = now >= start or now < end
        end_day = local.date() + dt.timedelta(days=1) if now >= start else local.date()
    if not inside:
        return None
    return dt.datetime.combine(end_day, end, tzinfo=zone).astimezone(dt.UTC)


def _gateway_for(channel: str, customer_id: int | None) -> Destination | None:
    """The SMS or voice gateway for a customer: their own, else the provider-wide one."""
    return (
        Destination.objects.filter(kind=channel, enabled=True)
        .filter(Q(customer=customer_id) | Q(customer__isnull=True))
        .order_by(models.F("customer_id").asc(nulls_last=True), "pk")
        .first()
    )


def notify_user(
    user: User,
    *,
    severity: str,
    dedup_key: str,
    template: str,
    context: Mapping[str, Any],
    source: models.Model | None = None,
    customer: Customer | None = None,
    channels: Sequence[str] | None = None,
    now: dt.datetime | None = None,
) -> list[Notification]:
    """Tell ``user`` on the channels their rules choose for ``severity`` (or ``channels``).

    Inactive users get nothing. Without a matching rule the user gets e-mail. Non-critical
    messages during the user's quiet hours are deferred to their end, not dropped. One row per
    channel, deduplicated by ``f"{dedup_key}:{channel}"``; a channel the user has no
    address for (no e-mail, no phone, no gateway) gets a ``failed`` row saying why, so the
    timeline shows it.
    """
    if not user.is_active:
        return []
    now = now or timezone.now()
    rule = rule_for(user, severity)
    if channels is None:
        chosen = list(rule.channels) if rule is not None else list(DEFAULT_USER_CHANNELS)
    else:
        chosen = list(channels)
    deferred = None if severity == Severity.CRITICAL else quiet_until(rule, user, now)
    language = user_language(user)
    customer_id = customer.pk if customer is not None else user.customer_id
    rows: list[Notification] = []
    for channel in dict.fromkeys(chosen):
        if channel not in (Channel.EMAIL, Channel.SMS, Channel.VOICE):
            logger.warning("user %s: channel %s cannot reach a user directly", user.pk, channel)
            continue
        key = f"{dedup_key}:{channel}"
        if Notification.objects.filter(dedup_key=key).exists():
            rows.append(Notification.objects.get(dedup_key=key))
            continue
        subject, body = rendering.render(
            template, context, language=language, channel=channel, time_zone=user.time_zone
        )
        destination = None
        problem = ""
        if channel == Channel.EMAIL:
            address = user.email
            if not address:
                problem = "the user has no e-mail address"
        else:
            address = user.phone
            destination = _gateway_for(channel, customer_id)
            if not address:
                problem = "the user has no mobile phone number"
            elif destination is None:
                problem = f"no enabled {channel} gateway is configured"
        rows.append(
            _enqueue(
                channel=channel,
                dedup_key=key,
                subject=subject,
                body=body,
                address=address,
                user=user,
                destination=destination,
                customer=customer,
                severity=severity,
                source=source,
                payload={"template": template},
                language=language,
                next_attempt_at=deferred,
                failed_because=problem,
            )
        )
    return rows


def notify_destination(
    destination: Destination,
    *,
    severity: str,
    dedup_key: str,
    template: str,
    context: Mapping[str, Any],
    source: models.Model | None = None,
    mentions: Sequence[str] = (),
    test: bool = False,
) -> Notification:
    """Send a rendered message to a bot, webhook, gateway or mailing list.

    ``mentions`` are mobile numbers (DingTalk, WeCom) or user ids (WeCom ``<@id>``, Feishu
    ``open_id``) to @ in the message, on top of the destination's own ``at_mobiles``.
    """
    existing = Notification.objects.filter(dedup_key=dedup_key).first()
    if existing is not None:
        return existing
    language = str(destination.settings.get("language") or conf.default_language())
    subject, body = rendering.render(template, context, language=language, channel=destination.kind)
    return _enqueue(
        channel=destination.kind,
        dedup_key=dedup_key,
        subject=subject,
        body=body,
        address=destination_address(destination),
        destination=destination,
        customer=destination.customer,
        severity=severity,
        source=source,
        payload={"template": template, "mentions": [str(m) for m in mentions], "test": test},
        language=language,
        failed_because="" if destination.enabled or test else "the destination is disabled",
    )


def destination_address(destination: Destination) -> str:
    """What a destination's rows are addressed to: the phone numbers of an SMS/voice group,
    else its URL (or e-mail address)."""
    if destination.kind in (Channel.SMS, Channel.VOICE):
        phones = destination.settings.get("phones") or []
        if isinstance(phones, str):
            phones = phones.split(",")
        return ",".join(str(p).strip() for p in phones if str(p).strip())
    return destination.url


def for_source(obj: models.Model) -> QuerySet[Notification]:
    """The notifications sent about ``obj`` (an incident, alert group, escalation run …)."""
    return (
        Notification.objects.for_source(obj)
        .select_related("user", "destination")
        .order_by("created_at", "pk")
    )


def send_test_message(destination: Destination, *, user: User) -> Notification:
    """Queue a test message to ``destination`` (sent even if it is disabled: that is how one
    checks a destination before enabling it)."""
    return notify_destination(
        destination,
        severity=Severity.INFO,
        dedup_key=f"test:{destination.pk}:{uuid.uuid4().hex}",
        template="test",
        context={"destination": destination.name, "sent_at": timezone.now(), "by": str(user)},
        test=True,
    )
