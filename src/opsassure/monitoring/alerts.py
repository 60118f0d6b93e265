"""Monitoring → alerting: problems found here enter the alerting pipeline as alerts.

They take the same path as external alerts (``alerting.ingest.accept``), through one internal
integration per customer (kind ``monitoring``; provider-wide for probe alerts), so routing
rules, silences, maintenance windows, inhibition, incidents and on-call paging all apply.
The fingerprint is ours and stable (``mon-check-<id>``, ``mon-rule-<rule>-<series>``,
``mon-probe-<id>``), so re-firing is a repeat and a resolve closes the same alert.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from opsassure.alerting import ingest
from opsassure.alerting.models import IngestBatch, Integration, IntegrationKind
from opsassure.alerting.payloads import AlertIn, ParsedBatch
from opsassure.core.models import Customer


def integration_for(customer: Customer | int | None) -> Integration:
    """The customer's internal monitoring integration (created on first use)."""
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    scope = Integration.objects.filter(kind=IntegrationKind.MONITORING)
    scope = (
        scope.filter(customer__isnull=True)
        if customer_id is None
        else scope.filter(customer_id=customer_id)
    )
    found = scope.order_by("pk").first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Integration.objects.create(
                name="OpsAssure monitoring",
                kind=IntegrationKind.MONITORING,
                customer_id=customer_id,
            )
    except IntegrityError:  # a concurrent first use created it (unique per customer)
        return scope.order_by("pk").first() or scope.get()


def fire(
    customer: Customer | int | None,
    *,
    fingerprint: str,
    labels: dict[str, str],
    annotations: dict[str, str],
    severity: str,
    starts_at: dt.datetime | None = None,
) -> IngestBatch:
    """Send (or repeat) a firing alert. Call inside the transaction that changed the state."""
    now = timezone.now()
    alert = AlertIn(
        fingerprint=fingerprint,
        status="firing",
        labels={**labels, "severity": severity, "source": "opsassure-monitoring"},
        annotations=annotations,
        starts_at=starts_at or now,
        ends_at=None,
        severity=severity,
    )
    return ingest.accept(integration_for(customer), ParsedBatch(alerts=[alert]), now=now)


def resolve(
    customer: Customer | int | None,
    *,
    fingerprint: str,
    labels: dict[str, str],
    severity: str,
    ends_at: dt.datetime | None = None,
) -> IngestBatch:
    """Resolve the alert with this fingerprint (a no-op for the pipeline if it is not firing)."""
    now = timezone.now()
    alert = AlertIn(
        fingerprint=fingerprint,
        status="resolved",
        labels={**labels, "severity": severity, "source": "opsassure-monitoring"},
        annotations={},
        starts_at=ends_at or now,
        ends_at=ends_at or now,
        severity=severity,
    )
    return ingest.accept(integration_for(customer), ParsedBatch(alerts=[alert]), now=now)
