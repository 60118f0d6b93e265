"""The mail channel's periodic tasks in the database scheduler (seeded after migrate)."""

from __future__ import annotations

from typing import Any

SCHEDULES = (
    (
        "servicedesk: poll mailboxes",
        "opsassure.servicedesk.mail.tasks.poll_mailboxes",
        "Fetch new mail from every active IMAP mailbox (one task per mailbox).",
    ),
    (
        "servicedesk: mail sweep",
        "opsassure.servicedesk.mail.tasks.notify_mail_sweep",
        "Send due outbound mail and retry inbound mail that failed (at most 3 times).",
    ),
)


def ensure_mail_schedule(**_: Any) -> None:
    """Seed the every-minute mail schedules (idempotent; later edits in the UI are kept)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    interval, _created = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.MINUTES
    )
    for name, task, description in SCHEDULES:
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": interval,
                "queue": "notify" if ".notify_" in task else "default",
                "description": description,
            },
        )
