"""Turn CMDB rows and history payloads into what the UI shows (labels, names, colours).

Kept apart from the views so the pages stay thin: the history timeline and the "as of" panel
both render stored ids and codes (``owner_team_id: 7``, ``status: "in_use"``) as the names and
labels a person reads, with every name looked up through the user's tenant scope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from opsassure.cmdb.models import (
    CIChange,
    CIType,
    ConfigurationItem,
    Criticality,
    Environment,
    Lifecycle,
    Location,
    MaintenanceContract,
    RelationType,
    Supplier,
)
from opsassure.core.models import Customer, Team, User
from opsassure.core.tenancy import scoped

STATUS_BADGES: dict[str, str] = {
    Lifecycle.PLANNED: "bg-azure-lt",
    Lifecycle.ORDERED: "bg-indigo-lt",
    Lifecycle.IN_STOCK: "bg-cyan-lt",
    Lifecycle.IN_USE: "bg-green-lt",
    Lifecycle.MAINTENANCE: "bg-orange-lt",
    Lifecycle.RETIRED: "bg-secondary-lt",
    Lifecycle.DISPOSED: "bg-dark-lt",
}
CRITICALITY_BADGES: dict[int, str] = {
    Criticality.CRITICAL: "bg-red-lt",
    Criticality.HIGH: "bg-orange-lt",
    Criticality.MEDIUM: "bg-yellow-lt",
    Criticality.LOW: "bg-secondary-lt",
}
# Foreign keys stored by id in history payloads, and the model whose name replaces the id.
_FOREIGN: dict[str, type[models.Model]] = {
    "customer_id": Customer,
    "ci_type_id": CIType,
    "owner_team_id": Team,
    "location_id": Location,
    "supplier_id": Supplier,
    "maintenance_contract_id": MaintenanceContract,
    "created_by_id": User,
}
_CHOICES: dict[str, type[models.Choices]] = {
    "status": Lifecycle,
    "environment": Environment,
    "criticality": Criticality,
}
_DATES = {"purchase_date", "warranty_end"}
_DATETIMES = {"verified_at"}
# Fields shown in the "as of" panel, in this order.
AS_OF_FIELDS = (
    "name",
    "ci_type_id",
    "status",
    "environment",
    "criticality",
    "owner_team_id",
    "location_id",
    "rack_unit",
    "hostname",
    "primary_ip",
    "vendor",
    "model",
    "serial_number",
    "asset_tag",
    "monitoring_endpoint",
    "purchase_date",
    "cost",
    "supplier_id",
    "warranty_end",
    "maintenance_contract_id",
    "depreciation_months",
    "verified_at",
    "description",
)


def decorate(ci: ConfigurationItem) -> ConfigurationItem:
    """Attach the badge classes the templates use (no queries)."""
    ci.status_badge = STATUS_BADGES.get(ci.status, "bg-secondary-lt")  # type: ignore[attr-defined]
    ci.criticality_badge = CRITICALITY_BADGES.get(  # type: ignore[attr-defined]
        ci.criticality, "bg-secondary-lt"
    )
    return ci


def field_label(name: str) -> str:
    """The translated verbose name of a CI field given its attribute name (``owner_team_id``)."""
    special = {"ip_addresses": _("IP addresses"), "tags": _("Tags"), "attributes": _("Attributes")}
    if name in special:
        return special[name]
    base = name[:-3] if name.endswith("_id") else name
    try:
        model_field = ConfigurationItem._meta.get_field(base)
    except FieldDoesNotExist:
        return name
    return capfirst(str(getattr(model_field, "verbose_name", name)))


def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def attribute_value(spec: dict[str, Any] | None, value: Any) -> str:
    """One type attribute as text: yes/no for booleans, the date in the user's format."""
    if value is None or value == "":
        return "—"
    kind = (spec or {}).get("kind", "text")
    if kind == "boolean" or isinstance(value, bool):
        return yes_no(bool(value))
    if kind == "date":
        parsed = parse_date(str(value))
        return parsed.isoformat() if parsed else str(value)
    return str(value)


def attribute_rows(ci_type: CIType, attributes: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) for every schema attribute, then any stored value the schema lost."""
    rows = [
        (
            str(spec.get("label") or spec["name"]),
            attribute_value(spec, attributes.get(spec["name"])),
        )
        for spec in ci_type.attribute_schema
    ]
    known = {spec["name"] for spec in ci_type.attribute_schema}
    rows.extend(
        (name, attribute_value(None, v)) for name, v in attributes.items() if name not in known
    )
    return rows


class NameBook:
    """Names of the objects history payloads refer to by id, fetched in one query per model.

    Every lookup goes through the user's scope: an object the user may not see is shown as
    ``#id``, never by name.
    """

    def __init__(self, user: User | AnonymousUser) -> None:
        self.user = user
        self._wanted: dict[type[models.Model], set[int]] = {}
        self._names: dict[type[models.Model], dict[int, str]] = {}

    def want(self, model: type[models.Model], pk: Any) -> None:
        if isinstance(pk, int) and not isinstance(pk, bool):
            self._wanted.setdefault(model, set()).add(pk)

    def resolve(self) -> None:
        for model, ids in self._wanted.items():
            names = self._names.setdefault(model, {})
            missing = ids - set(names)
            if not missing:
                continue
            if model is User:
                rows: Iterable[Any] = scoped(User, self.user).filter(pk__in=missing)
            elif model is MaintenanceContract:
                rows = scoped(model, self.user).filter(pk__in=missing).select_related("supplier")
            elif model is Location:
                rows = scoped(model, self.user).filter(pk__in=missing).select_related("parent")
            else:
                rows = scoped(model, self.user).filter(pk__in=missing)
            names.update({row.pk: str(row) for row in rows})
        self._wanted = {}

    def name(self, model: type[models.Model], pk: Any) -> str:
        if pk is None or pk == "":
            return "—"
        return self._names.get(model, {}).get(pk, f"#{pk}")


def _scalar(name: str, value: Any, book: NameBook) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if name in _FOREIGN:
        return book.name(_FOREIGN[name], value)
    if name in _CHOICES:
        try:
            return str(_CHOICES[name](value).label)
        except ValueError:
            return str(value)
    if name in _DATES:
        parsed = parse_date(str(value))
        return parsed.isoformat() if parsed else str(value)
    if name in _DATETIMES:
        moment = parse_datetime(str(value)) if isinstance(value, str) else value
        if isinstance(moment, dt.datetime):
            return localtime(moment).strftime("%Y-%m-%d %H:%M")
        return str(value)
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


@dataclass
class DiffLine:
    label: str
    before: str = ""
    after: str = ""
    # For sets (addresses, tags): what was removed and what was added.
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    @property
    def is_set(self) -> bool:
        return bool(self.removed or self.added)


@dataclass
class TimelineEntry:
    change: CIChange
    icon: str
    colour: str
    lines: list[DiffLine] = field(default_factory=list)
    relation: dict[str, str] | None = None


_KIND_LOOK: dict[str, tuple[str, str]] = {
    CIChange.Kind.CREATED: ("plus", "green"),
    CIChange.Kind.UPDATED: ("pencil", "blue"),
    CIChange.Kind.RELATION_ADDED: ("link", "azure"),
    CIChange.Kind.RELATION_REMOVED: ("unlink", "orange"),
    CIChange.Kind.DELETED: ("trash", "red"),
}


def _attribute_lines(ci_type: CIType, before: Any, after: Any) -> list[DiffLine]:
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    lines = []
    for name in sorted(set(before) | set(after)):
        if before.get(name) == after.get(name):
            continue
        spec = ci_type.attribute(name)
        label = str((spec or {}).get("label") or name)
        lines.append(
            DiffLine(
                label,
                attribute_value(spec, before.get(name)),
                attribute_value(spec, after.get(name)),
            )
        )
    return lines


def _lines(change: CIChange, ci_type: CIType, book: NameBook) -> list[DiffLine]:
    created = change.kind == CIChange.Kind.CREATED
    lines: list[DiffLine] = []
    for name, pair in change.changes.items():
        if not isinstance(pair, list) or len(pair) != 2:
            continue
        before, after = pair
        if name in {"ip_addresses", "tags"}:
            removed = [] if created else [str(v) for v in before or []]
            added = [str(v) for v in after or []]
            if removed or added:
                lines.append(DiffLine(field_label(name), removed=removed, added=added))
        elif name == "attributes":
            lines.extend(_attribute_lines(ci_type, before, after))
        elif name not in {"customer_id", "created_by_id", "id"} or not created:
            lines.append(
                DiffLine(field_label(name), _scalar(name, before, book), _scalar(name, after, book))
            )
    return lines


def timeline(
    changes: Iterable[CIChange], ci_type: CIType, user: User | AnonymousUser
) -> list[TimelineEntry]:
    """History rows with their field diffs rendered readably (ids become names)."""
    rows = list(changes)
    book = NameBook(user)
    for change in rows:
        for name, pair in change.changes.items():
            if name in _FOREIGN and isinstance(pair, list):
                for value in pair:
                    book.want(_FOREIGN[name], value)
    book.resolve()
    entries = []
    for change in rows:
        icon, colour = _KIND_LOOK.get(change.kind, ("point", "secondary"))
        entry = TimelineEntry(change, icon, colour)
        payload = change.changes.get("relation")
        if isinstance(payload, dict):
            entry.relation = {
                "source": str(payload.get("source_name", f"#{payload.get('source')}")),
                "type": _relation_label(str(payload.get("type", ""))),
                "target": str(payload.get("target_name", f"#{payload.get('target')}")),
            }
        else:
            entry.lines = _lines(change, ci_type, book)
        entries.append(entry)
    return entries


def _relation_label(code: str) -> str:
    try:
        return str(RelationType(code).label)
    except ValueError:
        return code


@dataclass
class PastState:
    fields: list[tuple[str, str]]
    attributes: list[tuple[str, str]]
    ip_addresses: list[str]
    tags: list[str]
    relations: list[dict[str, Any]]


def past_state(
    ci: ConfigurationItem, state: dict[str, Any], user: User | AnonymousUser
) -> PastState:
    """The dict of ``queries.ci_as_of`` as labelled rows, names resolved through the scope."""
    book = NameBook(user)
    for name, model in _FOREIGN.items():
        book.want(model, state.get(name))
    for relation in state.get("relations", []):
        book.want(ConfigurationItem, relation["source_id"])
        book.want(ConfigurationItem, relation["target_id"])
    book.resolve()
    ci_type = ci.ci_type
    type_id = state.get("ci_type_id")
    if type_id and type_id != ci.ci_type_id:
        ci_type = CIType.objects.filter(pk=type_id).first() or ci.ci_type
    fields = [(field_label(name), _scalar(name, state.get(name), book)) for name in AS_OF_FIELDS]
    relations = []
    for relation in state.get("relations", []):
        source_id, target_id = relation["source_id"], relation["target_id"]
        other_id = target_id if source_id == ci.pk else source_id
        relations.append(
            {
                "outgoing": source_id == ci.pk,
                "type": _relation_label(relation["relation_type"]),
                "other_id": other_id,
                "other_name": book.name(ConfigurationItem, other_id),
                "other_visible": book.name(ConfigurationItem, other_id) != f"#{other_id}",
            }
        )
    attributes = state.get("attributes") or {}
    return PastState(
        fields=fields,
        attributes=attribute_rows(ci_type, attributes if isinstance(attributes, dict) else {}),
        ip_addresses=list(state.get("ip_addresses", [])),
        tags=list(state.get("tags", [])),
        relations=relations,
    )
