"""Alerting's self-monitoring gauges on ``/metrics`` (core.metrics): the ingest backlog.

An accepted batch waits in the database until a worker has written and processed its alerts;
these gauges tell an operator (or their Prometheus) when the workers fall behind or stop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import DatabaseError
from django.db.models import Count, Min, Sum
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)


class IngestBacklogCollector(Collector):
    def describe(self) -> Iterable[GaugeMetricFamily]:
        yield GaugeMetricFamily("opsassure_alert_batches_waiting", "")
        yield GaugeMetricFamily("opsassure_alert_batches_waiting_alerts", "")
        yield GaugeMetricFamily("opsassure_alert_batch_oldest_waiting_seconds", "")

    def collect(self) -> Iterable[GaugeMetricFamily]:
        from opsassure.alerting.models import IngestBatch

        batches = GaugeMetricFamily(
            "opsassure_alert_batches_waiting",
            "Accepted alert batches not yet processed by a worker",
        )
        alerts = GaugeMetricFamily(
            "opsassure_alert_batches_waiting_alerts", "Alerts in the batches waiting"
        )
        oldest = GaugeMetricFamily(
            "opsassure_alert_batch_oldest_waiting_seconds",
            "Age of the oldest batch waiting (0 when none waits)",
        )
        try:
            row = IngestBatch.objects.filter(processed_at__isnull=True).aggregate(
                n=Count("id"), alerts=Sum("alert_count"), since=Min("received_at")
            )
        except DatabaseError:  # not migrated yet, or the database is down: still answer
            logger.warning("ingest backlog unavailable", exc_info=True)
            return
        since = row["since"]
        batches.add_metric([], row["n"] or 0)
        alerts.add_metric([], row["alerts"] or 0)
        oldest.add_metric([], (timezone.now() - since).total_seconds() if since else 0.0)
        yield batches
        yield alerts
        yield oldest


def register() -> None:
    from opsassure.core.metrics import REGISTRY

    REGISTRY.register(IngestBacklogCollector())
