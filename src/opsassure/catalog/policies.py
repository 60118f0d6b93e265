"""SLA policy lookups every other app uses: which policy, which priority, which target.

The service desk (and later alerting, changes) call only these functions, so the rules for
"which policy applies" live in one place:

- a ticket's service names a policy → that policy (if active);
- otherwise the customer's default policy (``SlaPolicy.is_default``);
- otherwise none: the ticket has no SLA clocks (shown as "no SLA" — never a crash).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from opsassure.catalog.models import (
    OlaTarget,
    Priority,
    PriorityMatrixCell,
    ServiceCalendar,
    SlaMetric,
    SlaPolicy,
    SlaTarget,
)
from opsassure.core import audit
from opsassure.core.models import AuditEvent, Customer
from opsassure.core.models.base import AuditedModel

if TYPE_CHECKING:
    from opsassure.catalog.models import Service
    from opsassure.core.models import Team

# The usual Chinese default (DOMAIN.md): P1 15 min / 2 h / 4 h; P2 30 min / 4 h / 8 h;
# P3 2 h / 8 h / 24 h; P4 8 h / — / 40 h — all in business minutes of the policy's calendar.
DEFAULT_TARGETS: dict[int, tuple[int, int | None, int]] = {
    Priority.P1: (15, 120, 240),
    Priority.P2: (30, 240, 480),
    Priority.P3: (120, 480, 1440),
    Priority.P4: (480, None, 2400),
}
# impact (1 high … 3 low) × urgency (1 high … 3 low) → priority (1 … 4)
DEFAULT_MATRIX: dict[tuple[int, int], int] = {
    (1, 1): 1,
    (1, 2): 2,
    (1, 3): 3,
    (2, 1): 2,
    (2, 2): 3,
    (2, 3): 4,
    (3, 1): 3,
    (3, 2): 4,
    (3, 3): 4,
}


def policy_for(customer: Customer | int, service: Service | None = None) -> SlaPolicy | None:
    """The policy a ticket of ``customer`` for ``service`` is measured against, or None."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    if service is not None and service.sla_policy_id is not None:
        policy = service.sla_policy
        if policy is not None and policy.is_active and policy.customer_id == customer_id:
            return policy
    return (
        SlaPolicy.objects.select_related("calendar")
        .filter(customer_id=customer_id, is_default=True, is_active=True)
        .first()
    )


def priority_for(policy: SlaPolicy | None, impact: int, urgency: int) -> int:
    """The matrix's priority for impact × urgency (the default matrix when a cell is missing)."""
    if policy is not None:
        cell = (
            PriorityMatrixCell.objects.filter(policy=policy, impact=impact, urgency=urgency)
            .values_list("priority", flat=True)
            .first()
        )
        if cell is not None:
            return int(cell)
    return DEFAULT_MATRIX.get((impact, urgency), int(Priority.P3))


@dataclass(frozen=True)
class Targets:
    """What a policy allows at one priority: SLA minutes per metric, OLA minutes per team."""

    sla: dict[str, int]
    ola: dict[tuple[int, str], int] = field(default_factory=dict)


def targets_for(policy: SlaPolicy, priority: int, team_ids: Iterable[int] = ()) -> Targets:
    """The policy's targets at ``priority`` (one query for the SLA, one for the OLAs of
    ``team_ids``). An empty target means no clock; OLAs have no arrival target."""
    sla: dict[str, int] = {}
    row = SlaTarget.objects.filter(policy=policy, priority=priority).first()
    if row is not None:
        for metric in SlaMetric:
            minutes = row.minutes_for(metric)
            if minutes:
                sla[str(metric)] = minutes
    ola: dict[tuple[int, str], int] = {}
    teams = [team_id for team_id in team_ids if team_id is not None]
    if teams:
        for ola_row in OlaTarget.objects.filter(policy=policy, priority=priority, team__in=teams):
            if ola_row.response_minutes:
                ola[(ola_row.team_id, str(SlaMetric.RESPONSE))] = ola_row.response_minutes
            if ola_row.resolution_minutes:
                ola[(ola_row.team_id, str(SlaMetric.RESOLUTION))] = ola_row.resolution_minutes
    return Targets(sla, ola)


def target_minutes(policy: SlaPolicy, priority: int, metric: str) -> int | None:
    """Business minutes allowed for ``metric`` at ``priority``; None = no target."""
    return targets_for(policy, priority).sla.get(str(metric))


def ola_minutes(policy: SlaPolicy, team: Team | None, priority: int, metric: str) -> int | None:
    """The team's internal target (response or resolution only); None = no OLA."""
    if team is None:
        return None
    return targets_for(policy, priority, [team.pk]).ola.get((team.pk, str(metric)))


def ensure_default_policy(customer: Customer, calendar: ServiceCalendar | None = None) -> SlaPolicy:
    """The customer's default policy, created with the default matrix and targets if missing.

    ``calendar`` defaults to the built-in 5×8 calendar (code ``5x8``; seeded if missing).
    Idempotent and safe to call concurrently (the customer row is locked); the created rows
    are written to the audit trail like any other change.
    """
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        existing = SlaPolicy.objects.filter(customer=customer, is_default=True).first()
        if existing is not None:
            return existing
        if calendar is None:
            calendar = _builtin_five_by_eight()
        code = "default"
        taken = set(SlaPolicy.objects.filter(customer=customer).values_list("code", flat=True))
        suffix = 2
        while code in taken:  # the customer already has a (non-default) policy "default"
            code, suffix = f"default-{suffix}", suffix + 1
        policy = SlaPolicy.objects.create(  # audited by the model signal
            customer=customer,
            code=code,
            name=_("Standard SLA"),
            calendar=calendar,
            is_default=True,
        )
        cells = PriorityMatrixCell.objects.bulk_create(
            PriorityMatrixCell(policy=policy, impact=i, urgency=u, priority=p)
            for (i, u), p in DEFAULT_MATRIX.items()
        )
        targets = SlaTarget.objects.bulk_create(
            SlaTarget(
                policy=policy,
                priority=priority,
                response_minutes=response,
                arrival_minutes=arrival,
                resolution_minutes=resolution,
            )
            for priority, (response, arrival, resolution) in DEFAULT_TARGETS.items()
        )
        _audit_created([*cells, *targets], customer_id=customer.pk)
        return policy


def _builtin_five_by_eight() -> ServiceCalendar:
    calendar = ServiceCalendar.objects.filter(customer__isnull=True, code="5x8").first()
    if calendar is None:
        # Normally seeded after every migrate; a database flushed by hand may lack it.
        from opsassure.catalog.builtin import seed_builtin_calendars

        seed_builtin_calendars()
        calendar = ServiceCalendar.objects.get(customer__isnull=True, code="5x8")
    return calendar


def _audit_created(rows: Sequence[AuditedModel], *, customer_id: int) -> None:
    """One CREATE event per bulk-created row (bulk_create sends no model signals)."""
    audit.record_many(
        audit.PendingEvent.of(
            AuditEvent.Action.CREATE,
            row,
            changes={k: [None, v] for k, v in row.audit_snapshot().items() if v not in (None, "")},
            customer_id=customer_id,
        )
        for row in rows
    )
