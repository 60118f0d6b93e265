"""Monitoring tasks: thin, idempotent, re-drivable; the work is in the modules they call.

Names start with ``monitoring_`` (the ``default`` queue). Every periodic task recomputes from
rows, so a missed or doubled run changes nothing.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task
def monitoring_sweep_stale() -> int:
    """Probes without a heartbeat, checks not executed for two intervals → alerts (and back)."""
    from opsassure.monitoring import probing

    return probing.sweep_stale()


@shared_task
def monitoring_evaluate(series_ids: list[int]) -> int:
    """Threshold rules over the series a push just wrote."""
    from opsassure.monitoring import rules

    return rules.evaluate_series(series_ids)


@shared_task
def monitoring_evaluate_all() -> int:
    """Every minute: rules whose "for" duration ran out, or whose series went silent."""
    from opsassure.monitoring import rules

    return rules.evaluate_all()


@shared_task
def monitoring_rollup() -> int:
    """Hourly and daily rollups of the recent hours (upserts: safe to run twice)."""
    from opsassure.monitoring import rollups

    return rollups.rollup_recent()


@shared_task
def monitoring_retention() -> int:
    """Delete raw results/samples and rollups past their retention."""
    from opsassure.monitoring import rollups

    return rollups.purge_expired()


SCHEDULES: dict[str, tuple[str, int]] = {
    # periodic task name: (task, every N seconds)
    "monitoring: stale probes and checks": ("monitoring_sweep_stale", 30),
    "monitoring: threshold rules": ("monitoring_evaluate_all", 60),
    "monitoring: rollups": ("monitoring_rollup", 300),
    "monitoring: retention": ("monitoring_retention", 3600),
}


def ensure_schedules(**_kwargs: Any) -> None:
    """Seed the periodic tasks in the database scheduler (idempotent; users may edit them)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for name, (task, seconds) in SCHEDULES.items():
        every, _ = IntervalSchedule.objects.get_or_create(
            every=seconds, period=IntervalSchedule.SECONDS
        )
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={"task": f"opsassure.monitoring.tasks.{task}", "interval": every},
        )
