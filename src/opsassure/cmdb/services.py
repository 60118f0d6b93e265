"""CMDB business operations. Every write goes through here: rules, history, audit."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opsassure.cmdb.models import (
    ACYCLIC_RELATIONS,
    LIFECYCLE_TRANSITIONS,
    CIAddress,
    CIChange,
    CIType,
    ConfigurationItem,
    Lifecycle,
    Relation,
    Tag,
)
from opsassure.cmdb.schema import clean_attributes
from opsassure.core.models import User

# Fields a caller may set directly on a CI (everything else goes through a dedicated service).
EDITABLE_FIELDS = (
    "name",
    "ci_type",
    "status",
    "environment",
    "criticality",
    "owner_team",
    "location",
    "rack_unit",
    "hostname",
    "primary_ip",
    "vendor",
    "model",
    "serial_number",
    "asset_tag",
    "description",
    "attributes",
    "monitoring_endpoint",
    "purchase_date",
    "cost",
    "supplier",
    "warranty_end",
    "maintenance_contract",
    "depreciation_months",
    "verified_at",
)
MAX_ADDRESSES = 64


def _actor_name(actor: User | None) -> str:
    return actor.get_username() if actor is not None else "system"


def _history_value(value: Any) -> Any:
    """JSON-safe value for the CI timeline (foreign keys as their id)."""
    if hasattr(value, "pk"):
        return value.pk
    if value is None or isinstance(value, bool | int | float | str | dict | list):
        return value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _record(
    ci: ConfigurationItem, kind: str, changes: dict[str, Any], actor: User | None, source: str
) -> CIChange:
    return CIChange.objects.create(
        ci=ci,
        at=timezone.now(),
        kind=kind,
        actor=actor,
        actor_name=_actor_name(actor),
        source=source,
        changes=changes,
    )


def normalise_addresses(values: Iterable[str]) -> list[str]:
    addresses: list[str] = []
    problems: list[str] = []
    for raw in values:
        text = str(raw).strip()
        if not text:
            continue
        try:
            address = str(ipaddress.ip_address(text))
        except ValueError:
            problems.append(_("%(value)s is not an IP address") % {"value": text[:60]})
            continue
        if address not in addresses:
            addresses.append(address)
    if len(addresses) > MAX_ADDRESSES:
        problems.append(_("At most %(n)d IP addresses per CI.") % {"n": MAX_ADDRESSES})
    if problems:
        raise ValidationError({"ip_addresses": problems})
    return addresses


def _check_customer_refs(customer_id: int | None, values: dict[str, Any]) -> None:
    """Owner team, location and contract must belong to the CI's customer (or be shared)."""
    problems: dict[str, list[str]] = {}
    location = values.get("location")
    if location is not None and location.customer_id not in (None, customer_id):
        problems["location"] = [_("The location belongs to another customer.")]
    contract = values.get("maintenance_contract")
    if contract is not None and contract.customer_id != customer_id:
        problems["maintenance_contract"] = [_("The contract belongs to another customer.")]
    if problems:
        raise ValidationError(problems)


def _sync_addresses(ci: ConfigurationItem, addresses: Sequence[str]) -> tuple[list[str], list[str]]:
    current = set(ci.addresses.values_list("address", flat=True))
    wanted = list(addresses)
    if ci.primary_ip and ci.primary_ip not in wanted:
        wanted.insert(0, ci.primary_ip)
    added = [a for a in wanted if a not in current]
    removed = sorted(current - set(wanted))
    if removed:
        ci.addresses.filter(address__in=removed).delete()
    CIAddress.objects.bulk_create([CIAddress(ci=ci, address=a) for a in added])
    return added, removed


def _sync_tags(ci: ConfigurationItem, names: Iterable[str]) -> tuple[list[str], list[str]]:
    wanted = sorted({name.strip() for name in names if name and name.strip()})
    tags = []
    for name in wanted:
        if len(name) > 50:
            raise ValidationError({"tags": [_("A tag is at most 50 characters.")]})
        tag, _created = Tag.objects.get_or_create(name=name)
        tags.append(tag)
    current = set(ci.tags.values_list("name", flat=True))
    ci.tags.set(tags)
    return [t for t in wanted if t not in current], sorted(current - set(wanted))


@transaction.atomic
def create_ci(
    *,
    actor: User | None,
    customer_id: int | None,
    ci_type: CIType,
    name: str,
    ip_addresses: Iterable[str] = (),
    tags: Iterable[str] = (),
    source: str = "ui",
    **values: Any,
) -> ConfigurationItem:
    """Create a CI after checking its attributes against the type schema."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({field: [_("Unknown field.")] for field in sorted(unknown)})
    attributes = clean_attributes(ci_type, values.pop("attributes", {}))
    _check_customer_refs(customer_id, values)
    addresses = normalise_addresses(ip_addresses)
    if values.get("primary_ip") is None and addresses:
        values["primary_ip"] = addresses[0]
    ci = ConfigurationItem(
        customer_id=customer_id,
        ci_type=ci_type,
        name=name,
        attributes=attributes,
        created_by=actor,
        **values,
    )
    ci.full_clean(validate_unique=True)
    ci.save()
    added_addresses, _removed = _sync_addresses(ci, addresses)
    added_tags, _removed_tags = _sync_tags(ci, tags)
    snapshot = {
        k: _history_value(v)
        for k, v in ci.audit_snapshot().items()
        if v not in (None, "", {}) and k not in {"id", "created_by_id"}
    }
    snapshot["ip_addresses"] = [None, added_addresses]
    snapshot["tags"] = [None, added_tags]
    _record(
        ci,
        CIChange.Kind.CREATED,
        {k: v if isinstance(v, list) else [None, v] for k, v in snapshot.items()},
        actor,
        source,
    )
    return ci


def check_transition(ci: ConfigurationItem, new_status: str) -> None:
    if new_status == ci.status:
        return
    allowed = LIFECYCLE_TRANSITIONS.get(ci.status, frozenset())
    if new_status not in allowed:
        names = ", ".join(str(Lifecycle(s).label) for s in sorted(allowed)) or _("none")
        raise ValidationError(
            {
                "status": [
                    _("Cannot move from %(old)s to %(new)s. Allowed: %(allowed)s.")
                    % {
                        "old": Lifecycle(ci.status).label,
                        "new": Lifecycle(new_status).label
                        if new_status in Lifecycle.values
                        else new_status,
                        "allowed": names,
                    }
                ]
            }
        )


@transaction.atomic
def update_ci(
    ci: ConfigurationItem,
    *,
    actor: User | None,
    source: str = "ui",
    ip_addresses: Iterable[str] | None = None,
    tags: Iterable[str] | None = None,
    **values: Any,
) -> ConfigurationItem:
    """Change fields of a CI; records a field-level diff. A no-op writes nothing."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({field: [_("Unknown field.")] for field in sorted(unknown)})
    locked = ConfigurationItem.objects.select_for_update().get(pk=ci.pk)
    if "status" in values:
        check_transition(locked, values["status"])
    ci_type = values.get("ci_type", locked.ci_type)
    if "attributes" in values or "ci_type" in values:
        values["attributes"] = clean_attributes(
            ci_type, values.get("attributes", locked.attributes)
        )
    _check_customer_refs(locked.customer_id, values)
    addresses = normalise_addresses(ip_addresses) if ip_addresses is not None else None
    if (
        addresses is not None
        and "primary_ip" not in values
        and (locked.primary_ip not in addresses)
    ):
        # The primary address follows the list when the old one is no longer in it.
        values["primary_ip"] = addresses[0] if addresses else None
    before = locked.audit_snapshot()
    for field, value in values.items():
        setattr(locked, field, value)
    locked.full_clean(validate_unique=True)
    after = locked.audit_snapshot()
    diff = {
        k: [_history_value(before.get(k)), _history_value(v)]
        for k, v in after.items()
        if before.get(k) != v and k != "updated_at"
    }
    if diff:
        locked.save()
    if addresses is not None:
        added, removed = _sync_addresses(locked, addresses)
        if added or removed:
            diff["ip_addresses"] = [removed, added]
    elif "primary_ip" in diff:
        # The primary address moved: the old one leaves the address list, the new one joins.
        old_primary = before.get("primary_ip")
        kept = [a for a in locked.addresses.values_list("address", flat=True) if a != old_primary]
        added, removed = _sync_addresses(locked, kept)
        if added or removed:
            diff["ip_addresses"] = [removed, added]
    if tags is not None:
        added_tags, removed_tags = _sync_tags(locked, tags)
        if added_tags or removed_tags:
            diff["tags"] = [removed_tags, added_tags]
    if diff:
        _record(locked, CIChange.Kind.UPDATED, diff, actor, source)
    return locked


@transaction.atomic
def delete_ci(ci: ConfigurationItem, *, actor: User | None) -> None:
    """Delete a CI (its relations go with it). Usually one retires and disposes instead."""
    ci.delete()


def _reachable(start_ids: set[int], goal_id: int, relation_type: str, limit: int = 100_000) -> bool:
    """Is ``goal_id`` reachable from ``start_ids`` following ``relation_type`` edges?"""
    seen: set[int] = set(start_ids)
    frontier = set(start_ids)
    while frontier and len(seen) < limit:
        if goal_id in frontier:
            return True
        next_ids = (
            set(
                Relation.objects.filter(
                    source_id__in=frontier, relation_type=relation_type
                ).values_list("target_id", flat=True)
            )
            - seen
        )
        seen |= next_ids
        frontier = next_ids
    return goal_id in seen


@transaction.atomic
def add_relation(
    *,
    actor: User | None,
    source: ConfigurationItem,
    target: ConfigurationItem,
    relation_type: str,
    note: str = "",
    origin: str = "ui",
) -> Relation:
    """Relate two CIs, refusing self-relations, duplicates, foreign CIs and forbidden cycles."""
    problems: list[str] = []
    if source.pk == target.pk:
        problems.append(_("A CI cannot be related to itself."))
    if target.customer_id is not None and target.customer_id != source.customer_id:
        problems.append(
            _("A relation cannot cross customers unless the target is a shared provider CI.")
        )
    if Relation.objects.filter(source=source, target=target, relation_type=relation_type).exists():
        problems.append(_("This relation already exists."))
    if (
        not problems
        and relation_type in ACYCLIC_RELATIONS
        and _reachable({target.pk}, source.pk, relation_type)
    ):
        problems.append(_("This relation would create a cycle."))
    if problems:
        raise ValidationError({"relation": problems})
    relation = Relation(
        customer_id=source.customer_id,
        source=source,
        target=target,
        relation_type=relation_type,
        note=note,
    )
    relation.full_clean(validate_unique=False, validate_constraints=False)
    relation.save()
    payload = {
        "relation": {
            "id": relation.pk,
            "type": relation_type,
            "source": source.pk,
            "target": target.pk,
            "source_name": source.name,
            "target_name": target.name,
        }
    }
    _record(source, CIChange.Kind.RELATION_ADDED, payload, actor, origin)
    _record(target, CIChange.Kind.RELATION_ADDED, payload, actor, origin)
    return relation


@transaction.atomic
def remove_relation(relation: Relation, *, actor: User | None, origin: str = "ui") -> None:
    payload = {
        "relation": {
            "id": relation.pk,
            "type": relation.relation_type,
            "source": relation.source_id,
            "target": relation.target_id,
            "source_name": relation.source.name,
            "target_name": relation.target.name,
        }
    }
    _record(relation.source, CIChange.Kind.RELATION_REMOVED, payload, actor, origin)
    _record(relation.target, CIChange.Kind.RELATION_REMOVED, payload, actor, origin)
    relation.delete()


@transaction.atomic
def bulk_update(
    cis: Sequence[ConfigurationItem],
    *,
    actor: User | None,
    status: str | None = None,
    owner_team: Any = None,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
) -> int:
    """Apply the same change to many CIs; all or nothing (one invalid transition stops all)."""
    add = [t for t in add_tags if t]
    remove = set(remove_tags)
    for ci in cis:
        values: dict[str, Any] = {}
        if status:
            values["status"] = status
        if owner_team is not None:
            values["owner_team"] = owner_team
        tags = None
        if add or remove:
            current = set(ci.tags.values_list("name", flat=True))
            tags = sorted((current | set(add)) - remove)
        try:
            update_ci(ci, actor=actor, source="bulk", tags=tags, **values)
        except ValidationError as error:
            raise ValidationError({ci.name: error.messages}) from error
    return len(cis)
