"""On-call series for /metrics, read from the database at scrape time."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import DatabaseError
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)


class OncallCollector(Collector):
    def describe(self) -> Iterable[GaugeMetricFamily]:
        yield GaugeMetricFamily("opsassure_oncall_stalled_escalations", "")
        yield GaugeMetricFamily("opsassure_oncall_overdue_steps", "")

    def collect(self) -> Iterable[GaugeMetricFamily]:
        from opsassure.oncall.models import EscalationRun, EscalationStep

        stalled = GaugeMetricFamily(
            "opsassure_oncall_stalled_escalations",
            "Active, unacknowledged escalations flagged by the auditor (no pending step)",
        )
        overdue = GaugeMetricFamily(
            "opsassure_oncall_overdue_steps",
            "Escalation steps still pending more than two minutes after their due time",
        )
        try:
            stalled.add_metric(
                [],
                EscalationRun.objects.filter(state="active", stalled_at__isnull=False).count(),
            )
            cutoff = timezone.now() - dt.timedelta(minutes=2)
            overdue.add_metric(
                [], EscalationStep.objects.filter(state="pending", due_at__lt=cutoff).count()
            )
        except DatabaseError:  # not migrated yet, or the database is down: still answer
            logger.warning("on-call metrics unavailable", exc_info=True)
        yield stalled
        yield overdue


def register() -> None:
    from opsassure.core.metrics import REGISTRY

    REGISTRY.register(OncallCollector())
