"""Service catalogue operations (服务目录): create, change, delete entries of the tree.

Every write goes through here. The rules are checked all at once, so a form or an API client
learns every problem of a submission in one answer; nothing is written when one fails. Audit
events come from ``AuditedModel`` (one per saved row), inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from opsassure.catalog.models import Service, ServiceCalendar, SlaPolicy
from opsassure.core.models import Customer, Team

SERVICE_FIELDS = (
    "parent",
    "code",
    "name",
    "description",
    "goal",
    "scope",
    "frequency",
    "service_hours",
    "delivery_mode",
    "deliverables",
    "owner_team",
    "sla_policy",
    "is_active",
)
# A catalogue is a handful of levels deep (service → sub-service → task); a deeper tree is
# almost certainly a mistake, and the limit bounds the ancestor walk.
MAX_DEPTH = 6


class ServiceInUseError(Exception):
    """The service still has sub-services or tickets: deactivate it instead."""


def _add(errors: dict[str, list[str]], name: str, message: str) -> None:
    errors.setdefault(name, []).append(message)


def _ancestor_ids(service_id: int | None) -> list[int]:
    """``service_id`` and its ancestors, nearest first (one query per level, depth-bounded)."""
    chain: list[int] = []
    current = service_id
    while current is not None and len(chain) <= MAX_DEPTH + 1:
        if current in chain:  # a cycle already stored (never by these services) stops the walk
            break
        chain.append(current)
        current = Service.objects.filter(pk=current).values_list("parent_id", flat=True).first()
    return chain


def _subtree_height(service: Service) -> int:
    """Levels below ``service`` (0 for a leaf)."""
    height, level = 0, [service.pk]
    while level and height <= MAX_DEPTH:
        level = list(Service.objects.filter(parent_id__in=level).values_list("pk", flat=True))
        if level:
            height += 1
    return height


def check_service(service: Service) -> None:
    """Every rule of a catalogue entry at once; raises one ValidationError naming each field."""
    errors: dict[str, list[str]] = {}
    try:
        service.full_clean(exclude=["customer"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    customer_id = service.customer_id
    if customer_id is None:
        _add(errors, "customer", _("Choose the customer."))
    parent: Service | None = service.parent if service.parent_id else None
    if parent is not None and customer_id is not None:
        if parent.customer_id != customer_id:
            _add(errors, "parent", _("The parent service belongs to another customer."))
        elif service.pk is not None:
            ancestors = _ancestor_ids(parent.pk)
            if service.pk in ancestors:
                _add(
                    errors,
                    "parent",
                    _("A service cannot be placed below itself or one of its sub-services."),
                )
            elif len(ancestors) + 1 + _subtree_height(service) > MAX_DEPTH:
                _add(
                    errors,
                    "parent",
                    _("The tree would be deeper than %(n)d levels.") % {"n": MAX_DEPTH},
                )
        elif len(_ancestor_ids(parent.pk)) + 1 > MAX_DEPTH:
            _add(
                errors,
                "parent",
                _("The tree would be deeper than %(n)d levels.") % {"n": MAX_DEPTH},
            )
    calendar: ServiceCalendar | None = service.service_hours if service.service_hours_id else None
    if calendar is not None and calendar.customer_id not in (None, customer_id):
        _add(
            errors,
            "service_hours",
            _("Use a provider-wide calendar or one of this customer's calendars."),
        )
    policy: SlaPolicy | None = service.sla_policy if service.sla_policy_id else None
    if policy is not None and policy.customer_id != customer_id:
        _add(errors, "sla_policy", _("The SLA policy belongs to another customer."))
    team: Team | None = service.owner_team if service.owner_team_id else None
    if (
        team is not None
        and customer_id is not None
        and not team.customers.filter(pk=customer_id).exists()
    ):
        _add(errors, "owner_team", _("This team does not serve the customer."))
    if service.code and customer_id is not None:
        clash = Service.objects.filter(customer_id=customer_id, code=service.code)
        if service.pk is not None:
            clash = clash.exclude(pk=service.pk)
        if clash.exists():
            _add(errors, "code", _("This customer already has a service with this code."))
    if errors:
        raise ValidationError(errors)


def create_service(*, customer: Customer, code: str, name: str, **values: Any) -> Service:
    """Add an entry to ``customer``'s catalogue (``values``: any of SERVICE_FIELDS)."""
    unknown = set(values) - set(SERVICE_FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    with transaction.atomic():
        service = Service(customer=customer, code=code, name=name, **values)
        check_service(service)
        service.save()
        return service


def update_service(service: Service, **changes: Any) -> Service:
    """Change an entry; it never moves to another customer."""
    unknown = set(changes) - set(SERVICE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: [_("This field cannot be changed.")] for name in sorted(unknown)}
        )
    with transaction.atomic():
        # Serialise tree moves of one customer: two concurrent moves could otherwise form a
        # cycle that neither check saw.
        Customer.objects.select_for_update().filter(pk=service.customer_id).first()
        locked = Service.objects.select_for_update().get(pk=service.pk)
        for name, value in changes.items():
            setattr(locked, name, value)
        check_service(locked)
        locked.save()
        return locked


def delete_service(service: Service) -> None:
    """Delete an entry without sub-services and tickets (else ServiceInUseError)."""
    if service.children.exists():
        raise ServiceInUseError(
            _("The service has sub-services: move or delete them first, or deactivate it.")
        )
    try:
        with transaction.atomic():
            service.delete()
    except ProtectedError as error:
        raise ServiceInUseError(
            _("The service is used by tickets or other records: deactivate it instead.")
        ) from error


# --- the tree, for pages and the API -------------------------------------------------------


@dataclass(frozen=True)
class TreeRow:
    service: Service
    depth: int
    path: tuple[str, ...]  # names from the root down to the service


def tree_rows(services: Iterable[Service]) -> list[TreeRow]:
    """Depth-first order of already-loaded services (one customer's or several).

    A service whose parent is not among ``services`` (filtered out) is shown as a root.
    """
    rows = list(services)
    by_id = {service.pk: service for service in rows}
    children: dict[int | None, list[Service]] = {}
    for service in rows:
        parent_id = service.parent_id if service.parent_id in by_id else None
        children.setdefault(parent_id, []).append(service)
    for siblings in children.values():
        siblings.sort(key=lambda s: (s.customer_id, s.code, s.pk))
    result: list[TreeRow] = []
    stack: list[tuple[Service, int, tuple[str, ...]]] = [
        (service, 0, (service.name,)) for service in reversed(children.get(None, []))
    ]
    seen: set[int] = set()
    while stack:
        service, depth, path = stack.pop()
        if service.pk in seen:
            continue
        seen.add(service.pk)
        result.append(TreeRow(service, depth, path))
        for child in reversed(children.get(service.pk, [])):
            stack.append((child, depth + 1, (*path, child.name)))
    return result


def ancestors(service: Service) -> list[Service]:
    """The chain from the root down to ``service``'s parent (for breadcrumbs)."""
    ids = _ancestor_ids(service.parent_id)
    found = {s.pk: s for s in Service.objects.filter(pk__in=ids)}
    return [found[pk] for pk in reversed(ids) if pk in found]
