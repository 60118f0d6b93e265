"""Alerting background tasks (thin: the work lives in ``processing``).

``alert_process_batch`` handles one committed ingest batch; it is idempotent (per-alert
``pending`` flags, a claimed batch) and re-driven from the database by ``alert_sweep`` every
minute, so a lost broker message or a killed worker only delays the work.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from opsassure.alerting import processing


@shared_task(name="opsassure.alerting.tasks.alert_process_batch", ignore_result=True)
def alert_process_batch(batch_id: int) -> int:
    """Process batch ``batch_id``; returns how many alerts changed state."""
    return processing.process_batch(batch_id)


@shared_task(name="opsassure.alerting.tasks.alert_sweep", ignore_result=True)
def alert_sweep() -> int:
    """Re-drive unprocessed batches and re-check suppressions that ended; returns the count."""
    return processing.sweep()


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
