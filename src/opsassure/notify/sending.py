"""Sending outbox rows: claim with a fence, send, record the reply, back off on failure.

A worker claims a ``pending`` row whose time has come with one conditional UPDATE
(``state = pending AND fence = <read>`` → ``sending``, ``fence + 1``); the row count says
who won, so two workers never send the same row at once. It finishes only with
``WHERE fence = <its fence> AND state = sending``: a worker the sweep has given up on (its
row was re-driven after ``NOTIFY_STUCK_SECONDS``) cannot overwrite the newer attempt.

Destinations with a rate limit (DingTalk and WeCom robots: 20 a minute) are counted from
the rows themselves — sent or being sent in the last 60 s — under a lock on the destination
row, so the limit holds across any number of workers. Rows over the limit are ``held``;
``digest_held`` folds them into one summary message when the window allows.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from opsassure.notify import conf
from opsassure.notify.channels import SendError, sender_for
from opsassure.notify.models import Destination, Notification

logger = logging.getLogger(__name__)
State = Notification.State
WINDOW = dt.timedelta(seconds=60)
# A row created this recently is still on its way to a worker (on_commit): the sweep waits.
FRESH = dt.timedelta(seconds=20)
SWEEP_BATCH = 500


def _is_due(next_attempt_at: dt.datetime | None, now: dt.datetime) -> bool:
    return next_attempt_at is None or next_attempt_at <= now


def recent_count(destination_id: int, now: dt.datetime) -> int:
    """Messages sent, or being sent, to a destination in the last 60 s (the rate window)."""
    since = now - WINDOW
    return (
        Notification.objects.filter(destination=destination_id)
        .filter(
            Q(state=State.SENT, sent_at__gt=since) | Q(state=State.SENDING, claimed_at__gt=since)
        )
        .count()
    )


def lock_destination(destination_id: int) -> Destination | None:
    """Serialise the rate-limit decision for one destination (row lock; SQLite's IMMEDIATE
    transactions serialise writers already)."""
    return Destination.objects.select_for_update().filter(pk=destination_id).first()


@dataclass
class Claim:
    notification: Notification | None
    outcome: str  # "claimed", "held", or "" (someone else has it, or it is not due)


def claim(pk: int, now: dt.datetime) -> Claim:
    """Take row ``pk`` for one send attempt, or hold it when its destination is at its limit."""
    found = (
        Notification.objects.filter(pk=pk)
        .values(
            "state",
            "fence",
            "next_attempt_at",
            "destination_id",
            "destination__kind",
            "destination__rate_limit_per_minute",
        )
        .first()
    )
    if (
        found is None
        or found["state"] != State.PENDING
        or not _is_due(found["next_attempt_at"], now)
    ):
        return Claim(None, "")
    mine = Notification.objects.filter(pk=pk, state=State.PENDING, fence=found["fence"])
    take = {
        "state": State.SENDING,
        "fence": F("fence") + 1,
        "attempts": F("attempts") + 1,
        "claimed_at": now,
    }
    limited = (
        found["destination_id"] is not None
        and Destination(
            kind=found["destination__kind"],
            rate_limit_per_minute=found["destination__rate_limit_per_minute"],
        ).effective_rate_limit
    )
    if not limited:
        won = mine.update(**take)  # one conditional UPDATE: the row count says who won
    else:
        with transaction.atomic():
            destination = lock_destination(found["destination_id"])
            limit = destination.effective_rate_limit if destination is not None else 0
            if limit and recent_count(found["destination_id"], now) >= limit:
                if mine.update(state=State.HELD, fence=F("fence") + 1) != 1:
                    return Claim(None, "")
                from opsassure.notify import tasks

                destination_id = found["destination_id"]
                # One digest task per destination and window, not one per held row (a burst
                # of 1,000 alerts would queue 1,000); the sweep covers a lost one.
                if cache.add(f"notify-digest-{destination_id}", 1, WINDOW.total_seconds()):
                    transaction.on_commit(
                        lambda: tasks.notify_digest.apply_async(
                            (destination_id,), countdown=WINDOW.total_seconds()
                        )
                    )
                return Claim(None, "held")
            won = mine.update(**take)
    if won != 1:
        return Claim(None, "")
    return Claim(Notification.objects.select_related("destination").get(pk=pk), "claimed")


def send_one(pk: int, now: dt.datetime | None = None) -> str:
    """Claim, send and record one row; returns its state afterwards ("" when not ours)."""
    now = now or timezone.now()
    taken = claim(pk, now)
    row = taken.notification
    if row is None:
        return str(State.HELD) if taken.outcome == "held" else ""
    destination = row.destination
    if destination is not None and not destination.enabled and not row.payload.get("test"):
        # Disabled after the row was written: stop, visibly, instead of sending.
        return record_failure(row, "the destination is disabled", "", retryable=False, now=now)
    try:
        reply = sender_for(row.channel).send(row)
    except SendError as error:
        logger.warning(
            "notification %s (%s) attempt %s failed: %s", row.pk, row.channel, row.attempts, error
        )
        return record_failure(row, str(error), error.reply, retryable=error.retryable, now=now)
    except Exception as error:  # a bug in a sender must not leave the row 'sending'
        logger.exception("notification %s: sender crashed", row.pk)
        return record_failure(row, f"{type(error).__name__}: {error}", "", retryable=True, now=now)
    return str(State.SENT) if record_success(row, reply, now) else ""


def _ours(row: Notification) -> Any:
    """The row, only while this attempt (its fence) still owns it."""
    return Notification.objects.filter(pk=row.pk, state=State.SENDING, fence=row.fence)


def record_success(row: Notification, reply: str, now: dt.datetime) -> bool:
    """Mark the claimed ``row`` sent; False when the attempt lost its claim meanwhile."""
    done = _ours(row).update(
        state=State.SENT,
        sent_at=now,
        provider_reply=reply[:4000],
        last_error="",
        next_attempt_at=None,
    )
    return done == 1


def record_failure(
    row: Notification, error: str, reply: str, *, retryable: bool, now: dt.datetime
) -> str:
    """Back off (``NOTIFY_BACKOFF_SECONDS`` doubling) or give up; returns the new state."""
    give_up = not retryable or row.attempts >= conf.max_attempts()
    state = State.FAILED if give_up else State.PENDING
    delay = dt.timedelta(seconds=conf.backoff_seconds(row.attempts))
    done = _ours(row).update(
        state=state,
        last_error=error[:4000],
        provider_reply=reply[:4000],
        next_attempt_at=None if give_up else now + delay,
    )
    return str(state) if done == 1 else ""


@dataclass
class SweepResult:
    redriven: list[int] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)
    digests: list[int] = field(default_factory=list)


def recover_stuck(now: dt.datetime) -> list[int]:
    """Rows left 'sending' by a worker that died: back to pending (or failed when spent)."""
    limit = now - dt.timedelta(seconds=conf.stuck_seconds())
    recovered = []
    stuck = Notification.objects.filter(state=State.SENDING, claimed_at__lt=limit).values_list(
        "pk", "fence", "attempts"
    )
    for pk, fence, attempts in stuck.order_by("pk")[:SWEEP_BATCH]:
        give_up = attempts >= conf.max_attempts()
        done = Notification.objects.filter(pk=pk, state=State.SENDING, fence=fence).update(
            state=State.FAILED if give_up else State.PENDING,
            fence=F("fence") + 1,
            next_attempt_at=None if give_up else now,
            last_error="no outcome recorded: the worker was lost while sending",
        )
        if done == 1 and not give_up:
            recovered.append(pk)
    return recovered


def due_ids(now: dt.datetime, limit: int = SWEEP_BATCH) -> list[int]:
    """Pending rows whose time has come (new rows only once their own send had its chance)."""
    return list(
        Notification.objects.filter(state=State.PENDING)
        .filter(
            Q(next_attempt_at__lte=now)
            | Q(next_attempt_at__isnull=True, created_at__lte=now - FRESH)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def sweep(now: dt.datetime | None = None) -> SweepResult:
    """Re-drive everything due: stuck rows, retries, deferred rows, held bursts."""
    from opsassure.notify import digest, tasks

    now = now or timezone.now()
    result = SweepResult()
    result.recovered = recover_stuck(now)
    for destination_id in digest.destinations_with_held():
        summary = digest.digest_held(destination_id, now)
        if summary is not None:
            result.digests.append(summary.pk)
    result.redriven = due_ids(now)
    for pk in result.redriven:
        tasks.notify_send.delay(pk)
    return result
