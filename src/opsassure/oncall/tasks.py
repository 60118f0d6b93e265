"""On-call background tasks (thin: the work lives in ``escalation`` and ``handovers``).

All are idempotent and safe on several workers; their truth is in the database. Schedules
are seeded into the database scheduler by ``ensure_schedules`` after migrate.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from opsassure.oncall import escalation, handovers


@shared_task(name="opsassure.oncall.tasks.oncall_sweep", ignore_result=True)
def oncall_sweep() -> int:
    """Run every due escalation step exactly once; returns how many ran."""
    return len(escalation.sweep().ran)


@shared_task(name="opsassure.oncall.tasks.oncall_run_due_steps", ignore_result=True)
def oncall_run_due_steps(run_id: int) -> int:
    """The on-commit kick of one run: its due steps now, not at the next sweep."""
    return len(escalation.sweep(run_id=run_id).ran)


@shared_task(name="opsassure.oncall.tasks.oncall_audit", ignore_result=True)
def oncall_audit() -> int:
    """Flag active, unacknowledged escalations with no pending step; returns how many."""
    return len(escalation.audit_stalled())


@shared_task(name="opsassure.oncall.tasks.oncall_handover_check", ignore_result=True)
def oncall_handover_check() -> int:
    """Escalate handovers nobody acknowledged in time to the team lead."""
    return len(handovers.escalate_overdue())


SCHEDULES = (
    # (name, task, every, period, description)
    (
        "oncall: escalation sweep",
        "opsassure.oncall.tasks.oncall_sweep",
        1,
        "minutes",
        "Runs due escalation steps (each exactly once).",
    ),
    (
        "oncall: escalation auditor",
        "opsassure.oncall.tasks.oncall_audit",
        5,
        "minutes",
        "Flags active, unacknowledged escalations that have no pending step.",
    ),
    (
        "oncall: handover check",
        "opsassure.oncall.tasks.oncall_handover_check",
        1,
        "minutes",
        "Escalates handovers not acknowledged in ONCALL_HANDOVER_ACK_MINUTES to the team lead.",
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
