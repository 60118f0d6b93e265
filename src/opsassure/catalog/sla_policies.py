"""SLA policy operations: a policy with its priority matrix, targets and OLA targets as a whole.

Every write goes through here (API, UI, demo). All rules are checked before anything is
written and every problem is reported at once (``ValidationError`` with one message list per
field). Child rows are updated in place — a changed cell is an UPDATE, not delete + insert —
so the audit trail shows what really changed.

The lookups other apps use (which policy, which priority, which target) live in
``catalog.policies``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from opsassure.catalog import queries
from opsassure.catalog.models import (
    Impact,
    OlaTarget,
    Priority,
    PriorityMatrixCell,
    ServiceCalendar,
    SlaMetric,
    SlaPolicy,
    SlaTarget,
    Urgency,
)
from opsassure.catalog.policies import DEFAULT_MATRIX, DEFAULT_TARGETS, targets_for
from opsassure.core.models import Customer, Team

POLICY_FIELDS = (
    "code",
    "name",
    "description",
    "calendar",
    "is_default",
    "warn_percent_first",
    "warn_percent_second",
    "is_active",
)
MAX_TARGET_MINUTES = 366 * 24 * 60  # a year: far beyond any real target


class PolicyInUseError(Exception):
    """The policy is the customer's default, or services/tickets still use it."""


@dataclass(frozen=True)
class MatrixEntry:
    impact: int
    urgency: int
    priority: int


@dataclass(frozen=True)
class TargetEntry:
    priority: int
    response_minutes: int
    resolution_minutes: int
    arrival_minutes: int | None = None


@dataclass(frozen=True)
class OlaEntry:
    team: Team
    priority: int
    response_minutes: int | None = None
    resolution_minutes: int | None = None


def default_matrix() -> list[MatrixEntry]:
    return [MatrixEntry(i, u, p) for (i, u), p in sorted(DEFAULT_MATRIX.items())]


def default_targets() -> list[TargetEntry]:
    return [
        TargetEntry(priority=p, response_minutes=r, arrival_minutes=a, resolution_minutes=s)
        for p, (r, a, s) in sorted(DEFAULT_TARGETS.items())
    ]


# --- the rules -----------------------------------------------------------------------------


class _Errors:
    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def _minutes_ok(value: int | None, *, optional: bool) -> bool:
    if value is None:
        return optional
    return isinstance(value, int) and 1 <= value <= MAX_TARGET_MINUTES


def _check_matrix(errors: _Errors, matrix: Sequence[MatrixEntry]) -> set[int]:
    """A complete 3×3 matrix, each cell once, priorities P1–P4; returns the priorities used."""
    seen: dict[tuple[int, int], int] = {}
    for cell in matrix:
        label = f"{cell.impact}×{cell.urgency}"
        if cell.impact not in Impact.values or cell.urgency not in Urgency.values:
            errors.add("matrix", _("%(cell)s: impact and urgency are 1, 2 or 3.") % {"cell": label})
            continue
        if (cell.impact, cell.urgency) in seen:
            errors.add("matrix", _("%(cell)s appears more than once.") % {"cell": label})
        if cell.priority not in Priority.values:
            errors.add("matrix", _("%(cell)s: the priority is 1 to 4.") % {"cell": label})
        seen.setdefault((cell.impact, cell.urgency), cell.priority)
    for impact in Impact.values:
        for urgency in Urgency.values:
            if (impact, urgency) not in seen:
                errors.add(
                    "matrix",
                    _("Impact %(impact)s × urgency %(urgency)s has no priority.")
                    % {"impact": impact, "urgency": urgency},
                )
    return {p for p in seen.values() if p in Priority.values}


def _check_targets(errors: _Errors, targets: Sequence[TargetEntry], used: set[int]) -> None:
    seen: set[int] = set()
    for row in targets:
        label = f"P{row.priority}"
        if row.priority not in Priority.values:
            errors.add("targets", _("%(row)s: the priority is 1 to 4.") % {"row": label})
            continue
        if row.priority in seen:
            errors.add("targets", _("%(row)s appears more than once.") % {"row": label})
        seen.add(row.priority)
        valid = True
        for name, value, optional in (
            ("response", row.response_minutes, False),
            ("arrival", row.arrival_minutes, True),
            ("resolution", row.resolution_minutes, False),
        ):
            if not _minutes_ok(value, optional=optional):
                valid = False
                errors.add(
                    "targets",
                    _("%(row)s: the %(metric)s target is 1 minute to 366 days.")
                    % {"row": label, "metric": _(name)},
                )
        if valid and row.resolution_minutes < row.response_minutes:
            errors.add(
                "targets",
                _("%(row)s: the resolution target must not be shorter than the response target.")
                % {"row": label},
            )
    for priority in sorted(used - seen):
        errors.add(
            "targets",
            _("P%(priority)s is used by the priority matrix but has no targets.")
            % {"priority": priority},
        )


def _check_ola(errors: _Errors, rows: Sequence[OlaEntry], customer_id: int | None) -> None:
    seen: set[tuple[int, int]] = set()
    serving = (
        set(Team.objects.filter(customers=customer_id).values_list("pk", flat=True))
        if customer_id is not None
        else set()
    )
    for row in rows:
        label = f"{row.team.code} P{row.priority}"
        if row.priority not in Priority.values:
            errors.add("ola_targets", _("%(row)s: the priority is 1 to 4.") % {"row": label})
            continue
        if (row.team.pk, row.priority) in seen:
            errors.add("ola_targets", _("%(row)s appears more than once.") % {"row": label})
        seen.add((row.team.pk, row.priority))
        if customer_id is not None and row.team.pk not in serving:
            errors.add(
                "ola_targets", _("%(row)s: the team does not serve this customer.") % {"row": label}
            )
        if row.response_minutes is None and row.resolution_minutes is None:
            errors.add(
                "ola_targets",
                _("%(row)s: give a response or a resolution target.") % {"row": label},
            )
            continue
        if not (
            _minutes_ok(row.response_minutes, optional=True)
            and _minutes_ok(row.resolution_minutes, optional=True)
        ):
            errors.add(
                "ola_targets",
                _("%(row)s: a target is 1 minute to 366 days.") % {"row": label},
            )
        elif (
            row.response_minutes is not None
            and row.resolution_minutes is not None
            and row.resolution_minutes < row.response_minutes
        ):
            errors.add(
                "ola_targets",
                _("%(row)s: the resolution target must not be shorter than the response target.")
                % {"row": label},
            )


def check_policy(
    policy: SlaPolicy,
    *,
    matrix: Sequence[MatrixEntry] | None,
    targets: Sequence[TargetEntry] | None,
    ola_targets: Sequence[OlaEntry] | None,
) -> None:
    """Every rule of a policy and its rows at once (None: the stored rows stay)."""
    errors = _Errors()
    try:
        policy.full_clean(exclude=["customer"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            for message in messages:
                errors.add(name, message)
    customer_id = policy.customer_id
    if customer_id is None:
        errors.add("customer", _("Choose the customer."))
    calendar: ServiceCalendar | None = policy.calendar if policy.calendar_id else None
    if calendar is not None and calendar.customer_id not in (None, customer_id):
        errors.add(
            "calendar", _("Use a provider-wide calendar or one of this customer's calendars.")
        )
    first, second = policy.warn_percent_first, policy.warn_percent_second
    if isinstance(first, int) and isinstance(second, int) and first > second:
        errors.add(
            "warn_percent_second",
            _("The second warning must not come before the first (%(first)d %% > %(second)d %%).")
            % {"first": first, "second": second},
        )
    if policy.code and customer_id is not None:
        clash = SlaPolicy.objects.filter(customer_id=customer_id, code=policy.code)
        if policy.pk is not None:
            clash = clash.exclude(pk=policy.pk)
        if clash.exists():
            errors.add("code", _("This customer already has a policy with this code."))
    if policy.pk is not None and not policy.is_default:
        was_default = SlaPolicy.objects.filter(pk=policy.pk, is_default=True).exists()
        if was_default:
            errors.add(
                "is_default",
                _("A customer keeps one default policy: make another policy the default instead."),
            )
    if policy.is_default and not policy.is_active:
        errors.add("is_active", _("The customer's default policy must stay active."))
    if matrix is not None:
        used = _check_matrix(errors, matrix)
    elif policy.pk is not None:
        used = set(
            PriorityMatrixCell.objects.filter(policy=policy).values_list("priority", flat=True)
        )
    else:
        used = set(DEFAULT_MATRIX.values())
    if targets is not None:
        _check_targets(errors, targets, used)
    elif policy.pk is not None and matrix is not None:
        stored = [
            TargetEntry(t.priority, t.response_minutes, t.resolution_minutes, t.arrival_minutes)
            for t in SlaTarget.objects.filter(policy=policy)
        ]
        _check_targets(errors, stored, used)
    if ola_targets is not None:
        _check_ola(errors, ola_targets, customer_id)
    errors.raise_if_any()


# --- writing -------------------------------------------------------------------------------


def _take_default(policy: SlaPolicy) -> None:
    """Clear the customer's previous default (audited) before ``policy`` becomes it."""
    previous = SlaPolicy.objects.select_for_update().filter(
        customer_id=policy.customer_id, is_default=True
    )
    if policy.pk is not None:
        previous = previous.exclude(pk=policy.pk)
    for other in previous.order_by("pk"):
        other.is_default = False
        other.save(update_fields=["is_default", "updated_at"])


def _write_matrix(policy: SlaPolicy, matrix: Iterable[MatrixEntry]) -> None:
    stored = {(c.impact, c.urgency): c for c in PriorityMatrixCell.objects.filter(policy=policy)}
    wanted = {(c.impact, c.urgency): c.priority for c in matrix}
    for key, cell in stored.items():
        if key not in wanted:
            cell.delete()
    for (impact, urgency), priority in sorted(wanted.items()):
        cell = stored.get((impact, urgency))
        if cell is None:
            PriorityMatrixCell(
                policy=policy, impact=impact, urgency=urgency, priority=priority
            ).save()
        elif cell.priority != priority:
            cell.priority = priority
            cell.save()


def _write_targets(policy: SlaPolicy, targets: Iterable[TargetEntry]) -> None:
    stored = {t.priority: t for t in SlaTarget.objects.filter(policy=policy)}
    wanted = {t.priority: t for t in targets}
    for priority, row in stored.items():
        if priority not in wanted:
            row.delete()
    for priority, entry in sorted(wanted.items()):
        row = stored.get(priority) or SlaTarget(policy=policy, priority=priority)
        values = {
            "response_minutes": entry.response_minutes,
            "arrival_minutes": entry.arrival_minutes,
            "resolution_minutes": entry.resolution_minutes,
        }
        if row.pk is None or any(getattr(row, k) != v for k, v in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.save()


def _write_ola(policy: SlaPolicy, rows: Iterable[OlaEntry]) -> None:
    stored = {(o.team_id, o.priority): o for o in OlaTarget.objects.filter(policy=policy)}
    wanted = {(o.team.pk, o.priority): o for o in rows}
    for key, row in stored.items():
        if key not in wanted:
            row.delete()
    for key, entry in sorted(wanted.items()):
        row = stored.get(key) or OlaTarget(policy=policy, team=entry.team, priority=entry.priority)
        values = {
            "response_minutes": entry.response_minutes,
            "resolution_minutes": entry.resolution_minutes,
        }
        if row.pk is None or any(getattr(row, k) != v for k, v in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.save()


def create_policy(
    *,
    customer: Customer,
    code: str,
    name: str,
    calendar: ServiceCalendar,
    matrix: Sequence[MatrixEntry] | None = None,
    targets: Sequence[TargetEntry] | None = None,
    ola_targets: Sequence[OlaEntry] = (),
    **values: Any,
) -> SlaPolicy:
    """A new policy; without ``matrix``/``targets`` it starts from the defaults (DOMAIN.md).

    ``values``: description, is_default, warn_percent_first/second, is_active. A new default
    takes the flag from the customer's previous default.
    """
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({n: [_("Unknown field.")] for n in sorted(unknown)})
    matrix = default_matrix() if matrix is None else list(matrix)
    targets = default_targets() if targets is None else list(targets)
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        policy = SlaPolicy(customer=customer, code=code, name=name, calendar=calendar, **values)
        check_policy(policy, matrix=matrix, targets=targets, ola_targets=list(ola_targets))
        if policy.is_default:
            _take_default(policy)
        policy.save()
        _write_matrix(policy, matrix)
        _write_targets(policy, targets)
        _write_ola(policy, ola_targets)
        return policy


def update_policy(
    policy: SlaPolicy,
    *,
    matrix: Sequence[MatrixEntry] | None = None,
    targets: Sequence[TargetEntry] | None = None,
    ola_targets: Sequence[OlaEntry] | None = None,
    **changes: Any,
) -> SlaPolicy:
    """Change a policy; a given ``matrix``/``targets``/``ola_targets`` replaces the stored rows.

    Open tickets keep their stored deadlines until the service desk re-targets them.
    """
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({n: [_("This field cannot be changed.")] for n in sorted(unknown)})
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=policy.customer_id).first()
        locked = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
        for name, value in changes.items():
            setattr(locked, name, value)
        check_policy(locked, matrix=matrix, targets=targets, ola_targets=ola_targets)
        if locked.is_default:
            _take_default(locked)
        locked.save()
        if matrix is not None:
            _write_matrix(locked, matrix)
        if targets is not None:
            _write_targets(locked, targets)
        if ola_targets is not None:
            _write_ola(locked, ola_targets)
        return locked


def delete_policy(policy: SlaPolicy) -> None:
    """Delete a policy that is not the default and that no service or ticket uses."""
    if policy.is_default:
        raise PolicyInUseError(
            _("The customer's default policy cannot be deleted: make another policy the default.")
        )
    if policy.services.exists():
        raise PolicyInUseError(_("Services use this policy: choose another policy for them first."))
    try:
        with transaction.atomic():
            policy.delete()
    except ProtectedError as error:
        raise PolicyInUseError(
            _("Tickets are measured against this policy: deactivate it instead.")
        ) from error


# --- preview -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueTime:
    metric: str
    minutes: int
    due_at: dt.datetime
    first_warning_at: dt.datetime
    second_warning_at: dt.datetime


@dataclass
class Preview:
    policy: SlaPolicy
    priority: int
    start: dt.datetime
    time_zone: str
    due: list[DueTime] = field(default_factory=list)
    ola: list[DueTime] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def warning_minutes(minutes: int, percent: int) -> int:
    """Business minutes after which a warning fires (whole minutes, at least one)."""
    return max(1, minutes * percent // 100)


def preview(
    policy: SlaPolicy, *, start: dt.datetime, priority: int, team: Team | None = None
) -> Preview:
    """Due times of ``priority`` for a clock started at ``start``, in the policy's calendar.

    Raises NoBusinessTimeError if the calendar has no working time at all.
    """
    engine = queries.business_calendar(policy.calendar)
    result = Preview(policy=policy, priority=priority, start=start, time_zone=engine.zone.key)

    def due(metric: str, minutes: int) -> DueTime:
        return DueTime(
            metric=metric,
            minutes=minutes,
            due_at=engine.add(start, minutes),
            first_warning_at=engine.add(start, warning_minutes(minutes, policy.warn_percent_first)),
            second_warning_at=engine.add(
                start, warning_minutes(minutes, policy.warn_percent_second)
            ),
        )

    targets = targets_for(policy, priority, [team.pk] if team is not None else [])
    for metric in SlaMetric.values:
        minutes = targets.sla.get(metric)
        if minutes is not None:
            result.due.append(due(metric, minutes))
        ola = targets.ola.get((team.pk, metric)) if team is not None else None
        if ola is not None:
            result.ola.append(due(metric, ola))
    instants = [start, *(d.due_at for d in result.due), *(d.due_at for d in result.ola)]
    years = sorted({instant.astimezone(engine.zone).year for instant in instants})
    result.warnings = [
        _("No public holiday data for %(year)d: plain weekdays were used.") % {"year": year}
        for year in years
        if not engine.coverage(year)
    ]
    return result
