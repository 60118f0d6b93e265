"""Celery beat scheduler that may be started on several machines: one leader sends.

django-celery-beat keeps the schedules in the database; running two beats would send every
periodic task twice. This subclass only ticks while it holds the "scheduler" lease, so a
second scheduler is a hot standby that takes over within LEASE_SECONDS of the leader's death.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from typing import Any

from django_celery_beat.schedulers import DatabaseScheduler

from opsassure.core.services import hold_lease

logger = logging.getLogger(__name__)
LEASE_NAME = "scheduler"
LEASE_SECONDS = 30.0


class LeaderDatabaseScheduler(DatabaseScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leading = False
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        leading = hold_lease(LEASE_NAME, self.holder, LEASE_SECONDS)
        if leading != self.leading:
            logger.info("scheduler %s is %s", self.holder, "leading" if leading else "standby")
            self.leading = leading
        if not leading:
            return LEASE_SECONDS / 3
        return min(float(super().tick(*args, **kwargs)), LEASE_SECONDS / 3)
