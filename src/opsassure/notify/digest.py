"""Folding messages held by a destination's rate limit into one summary message."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from opsassure.notify import rendering
from opsassure.notify.models import Notification, Severity

State = Notification.State
SEVERITY_ORDER = [Severity.CRITICAL, Severity.HIGH, Severity.WARNING, Severity.INFO]
MAX_LINES = 20


def destinations_with_held() -> list[int]:
    return list(
        Notification.objects.filter(state=State.HELD, destination__isnull=False)
        .order_by("destination_id")
        .values_list("destination_id", flat=True)
        .distinct()
    )


def digest_held(destination_id: int, now: dt.datetime) -> Notification | None:
    """When the destination's window has room, send its held rows as one summary.

    One held row is simply released; several become ``digested`` and point at the summary,
    a new outbox row that goes out at once. Returns the summary (or released row).
    """
    from opsassure.notify import sending, services

    with transaction.atomic():
        destination = sending.lock_destination(destination_id)
        if destination is None:
            return None
        limit = destination.effective_rate_limit
        if limit and sending.recent_count(destination.pk, now) >= limit:
            return None
        held = list(
            Notification.objects.filter(destination=destination, state=State.HELD).order_by("pk")
        )
        if not held:
            return None
        if len(held) == 1:
            Notification.objects.filter(pk=held[0].pk, state=State.HELD).update(
                state=State.PENDING, next_attempt_at=now
            )
            from opsassure.notify import tasks

            pk = held[0].pk
            transaction.on_commit(lambda: tasks.notify_send.delay(pk))
            return held[0]
        severity = min(
            (row.severity for row in held),
            key=lambda s: SEVERITY_ORDER.index(s) if s in SEVERITY_ORDER else len(SEVERITY_ORDER),
        )
        subject, body = rendering.render(
            "digest",
            {
                "count": len(held),
                "subjects": [row.subject for row in held[:MAX_LINES]],
                "more": max(0, len(held) - MAX_LINES),
            },
            language=held[-1].language or str(destination.settings.get("language") or "zh-hans"),
            channel=destination.kind,
        )
        mentions = sorted({m for row in held for m in row.payload.get("mentions", [])})
        summary = services.enqueue(
            channel=destination.kind,
            dedup_key=f"digest:{destination.pk}:{held[0].pk}-{held[-1].pk}",
            subject=subject,
            body=body,
            address=services.destination_address(destination),
            destination=destination,
            customer=destination.customer,
            severity=severity,
            payload={"digest_of": [row.pk for row in held], "mentions": mentions},
            language=held[-1].language,
        )
        Notification.objects.filter(pk__in=[row.pk for row in held], state=State.HELD).update(
            state=State.DIGESTED, digest=summary
        )
    return summary
