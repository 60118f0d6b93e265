"""Alerting background tasks (thin: the work lives in ``processing``).

``alert_process_batch`` handles one committed ingest batch; it is idempotent (per-alert
``pending`` flags, a claimed batch) and re-driven from the database by ``alert_sweep`` every
minute, so a lost broker message or a killed worker only delays the work.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import transaction

from opsassure.alerting import processing


@shared_task(name="opsassure.alerting.tasks.alert_process_batch", ignore_result=True)
def alert_process_batch(batch_id: int) -> int:
    """Process batch ``batch_id``; returns how many alerts changed state."""
    return processing.process_batch(batch_id)


@shared_task(name="opsassure.alerting.tasks.alert_sweep", ignore_result=True)
def alert_sweep() -> int:
    """Re-drive unprocessed batches and re-check suppressions that ended; returns the count."""
    return processing.sweep()


@shared_task(name="opsassure.alerting.tasks.alert_recheck_suppressions", ignore_result=True)
def alert_recheck_suppressions() -> int:
    """Mute firing alerts a new silence or window covers; release those whose one ended."""
    return processing.recheck_suppressions()


def on_suppression_saved(action: str = "post_save", **_: Any) -> None:
    """A silence or maintenance window or its CIs were saved: re-check firing alerts once it
    commits (the one-minute sweep does the same, should this message be lost)."""
    if action.startswith("post_"):  # m2m_changed also announces pre_add, pre_remove, …
        transaction.on_commit(alert_recheck_suppressions.delay)


SCHEDULES = (
    (
        "alerting: batch and suppression sweep",
        "opsassure.alerting.tasks.alert_sweep",
        1,
        "minutes",
        "Re-drives unprocessed alert batches and releases alerts whose silence ended.",
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
                "queue": "alerts",
                "description": description,
            },
        )
