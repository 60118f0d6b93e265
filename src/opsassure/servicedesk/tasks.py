"""Service-desk background tasks (thin: the work lives in ``sla`` and ``services``).

Both are idempotent and safe on several workers: the sweep claims clocks with a conditional
UPDATE, auto-close re-checks each ticket under its lock. Their schedules (every minute,
hourly) are seeded into the database scheduler by ``ensure_schedules`` after migrate.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from opsassure.servicedesk import services, sla


@shared_task(name="opsassure.servicedesk.tasks.sla_sweep", ignore_result=True)
def sla_sweep() -> int:
    """Fire the SLA warnings and breaches that are due; returns how many fired."""
    return len(sla.sweep().fired)


@shared_task(name="opsassure.servicedesk.tasks.auto_close", ignore_result=True)
def auto_close() -> int:
    """Close tickets resolved more than ``OPSASSURE_AUTO_CLOSE_DAYS`` ago; returns how many."""
    return len(services.auto_close_resolved())


SCHEDULES = (
    # (name, task, every, period, description)
    (
        "servicedesk: SLA breach sweep",
        "opsassure.servicedesk.tasks.sla_sweep",
        1,
        "minutes",
        "Fires SLA warnings, breaches and escalations.",
    ),
    (
        "servicedesk: auto-close resolved tickets",
        "opsassure.servicedesk.tasks.auto_close",
        1,
        "hours",
        "Closes tickets resolved more than OPSASSURE_AUTO_CLOSE_DAYS ago.",
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
                "queue": "default",
                "description": description,
            },
        )
