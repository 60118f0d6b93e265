"""Notification tasks (thin: the work lives in ``sending`` and ``digest``).

Every task is idempotent: the message says "look at row N"; the row's state and fence
decide. ``notify_sweep`` (every minute, seeded into the database scheduler after migrate)
re-drives whatever is due, held or stuck, so a lost message only delays a notification.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone

from opsassure.notify import digest, sending


@shared_task(name="opsassure.notify.tasks.notify_send", ignore_result=True)
def notify_send(pk: int) -> str:
    """Send outbox row ``pk`` if it is due and nobody else has it; returns its state."""
    return sending.send_one(pk)


@shared_task(name="opsassure.notify.tasks.notify_digest", ignore_result=True)
def notify_digest(destination_id: int) -> int | None:
    """Send the summary of a destination's held messages if its window allows."""
    summary = digest.digest_held(destination_id, timezone.now())
    return None if summary is None else summary.pk


@shared_task(name="opsassure.notify.tasks.notify_sweep", ignore_result=True)
def notify_sweep() -> dict[str, int]:
    """Every minute: recover stuck rows, send digests, re-drive due rows."""
    result = sending.sweep()
    return {
        "redriven": len(result.redriven),
        "recovered": len(result.recovered),
        "digests": len(result.digests),
    }


SCHEDULES = (
    (
        "notify: outbox sweep",
        "opsassure.notify.tasks.notify_sweep",
        1,
        "minutes",
        "Re-drives due, deferred, held and stuck notifications.",
    ),
)


def ensure_schedules(**_: Any) -> None:
    """Seed the periodic tasks in the database scheduler (idempotent; users may edit them)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for name, task, every, period, description in SCHEDULES:
        interval, _created = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": interval,
                "queue": "notify",
                "description": description,
            },
        )
