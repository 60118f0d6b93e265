"""Turning imported rows into planned creates and updates, with every problem of every row.

Nothing here writes. The checks are the services' own: ``normalise_addresses``,
``clean_attributes``, ``check_transition`` and the model's field validation; uniqueness of
the natural key (customer, name) is checked against the file and the loaded CIs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from opsassure.cmdb.cells import (
    CHOICE_COLUMNS,
    attribute_value,
    choice_table,
    parse_date,
    parse_decimal,
    split_addresses,
    split_tags,
)
from opsassure.cmdb.models import CIAddress, CIType, ConfigurationItem, Tag
from opsassure.cmdb.schema import clean_attributes
from opsassure.cmdb.services import _history_value, check_transition, normalise_addresses
from opsassure.cmdb.tabular import Header, cell_text
from opsassure.core.models import Customer, Team, User

_CHUNK = 500
# Foreign keys are resolved from the loaded look-ups, so field validation skips their queries.
_FOREIGN_KEYS = [
    "customer",
    "ci_type",
    "owner_team",
    "location",
    "supplier",
    "maintenance_contract",
    "created_by",
]
_TEXT_FIELDS = (
    "hostname",
    "serial_number",
    "asset_tag",
    "vendor",
    "model",
    "description",
    "monitoring_endpoint",
)
# Error keys of the model and the services -> the column they come from.
_FIELD_COLUMN = {"primary_ip": "ip_addresses", "ci_type": "type", "__all__": "name"}


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _messages(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {key: [str(m) for m in messages] for key, messages in error.message_dict.items()}
    return {"__all__": [str(m) for m in error.messages]}


@dataclass
class NewCI:
    row: int
    ci: ConfigurationItem
    addresses: list[str]
    tags: list[str]


@dataclass
class ChangedCI:
    row: int
    ci: ConfigurationItem
    fields: dict[str, Any]  # attname -> new value
    audit: dict[str, list[Any]]  # attname -> [before, after], as the audit trail records it
    history: dict[str, Any]  # as services.update_ci records it
    addresses_added: list[str] = field(default_factory=list)
    addresses_removed: list[str] = field(default_factory=list)
    tags_added: list[str] = field(default_factory=list)
    tags_removed: list[str] = field(default_factory=list)


@dataclass
class RowPlans:
    creates: list[NewCI] = field(default_factory=list)
    updates: list[ChangedCI] = field(default_factory=list)
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[str, Tag] = field(default_factory=dict)


@dataclass
class _Existing:
    ci: ConfigurationItem
    addresses: list[str]
    tags: list[str]
    team_code: str


class _RowErrors:
    def __init__(self, header: Header, row: int) -> None:
        self.header = header
        self.row = row
        self.items: list[tuple[str, str]] = []

    def add(self, key: str, message: str) -> None:
        self.items.append((key, message))

    def add_validation(self, error: ValidationError) -> None:
        for key, messages in _messages(error).items():
            for message in messages:
                if key == "attributes":
                    name = message.split(":", 1)[0].strip()
                    column = f"attr:{name}" if name in self.header.attributes else "attributes"
                    self.add(column, message)
                else:
                    self.add(_FIELD_COLUMN.get(key, key), message)

    def flush(self, plans: RowPlans) -> None:
        for key, message in self.items:
            plans.errors.append(
                {"row": self.row, "column": self.header.label(key), "message": message}
            )


class RowPlanner:
    """Validates rows against loaded look-ups and plans what each row does."""

    def __init__(
        self,
        *,
        actor: User,
        header: Header,
        customer: Customer | None = None,
        ci_type: CIType | None = None,
    ) -> None:
        self.actor = actor
        self.header = header
        self.customer = customer
        self.ci_type = ci_type
        self.may_change = actor.has_perm("cmdb.change_configurationitem")
        self.choices = {key: choice_table(kind) for key, kind in CHOICE_COLUMNS.items()}
        self.customers: dict[str, Customer] = {}
        self.types: dict[str, CIType] = {}
        self.teams: dict[str, Team] = {}
        self.existing: dict[tuple[int | None, str], _Existing] = {}

    # --- set-up --------------------------------------------------------------------------

    def _cell(self, cells: Sequence[Any], key: str) -> Any:
        position = self.header.fields.get(key)
        return cells[position] if position is not None and position < len(cells) else None

    def _text(self, cells: Sequence[Any], key: str) -> str:
        return cell_text(self._cell(cells, key))

    def _file_problems(self) -> list[dict[str, Any]]:
        problems = [
            {"row": 1, "column": column, "message": message}
            for column, message in self.header.problems
        ]
        required = ["name"]
        if self.ci_type is None:
            required.append("type")
        if self.customer is None and self.actor.customer_id is None:
            required.append("customer")
        for key in required:
            if key not in self.header.fields:
                problems.append({"row": 1, "column": key, "message": _("Missing required column.")})
        if self.customer is not None and not (
            Customer.objects.visible_to(self.actor).filter(pk=self.customer.pk).exists()
        ):
            problems.append({"row": None, "column": "customer", "message": _("Unknown customer.")})
        return problems

    def _load(self, rows: Sequence[tuple[int, list[Any]]], lock: bool) -> None:
        all_types = list(CIType.objects.all())
        self.types = {ci_type.code.lower(): ci_type for ci_type in all_types}
        for ci_type in all_types:  # names too, where they do not shadow a code
            for name in {ci_type.name, str(ci_type)}:
                self.types.setdefault(name.strip().lower(), ci_type)
        if self.customer is not None:
            self.customers = {self.customer.code: self.customer}
        else:
            codes = {self._text(cells, "customer") for _n, cells in rows} - {""}
            for chunk in _chunks(codes):
                for customer in Customer.objects.visible_to(self.actor).filter(code__in=chunk):
                    self.customers[customer.code] = customer
        team_codes = {self._text(cells, "owner_team") for _n, cells in rows} - {""}
        for chunk in _chunks(team_codes):
            for team in Team.objects.visible_to(self.actor).filter(code__in=chunk):
                self.teams[team.code] = team
        self._load_existing(rows, lock)

    def _load_existing(self, rows: Sequence[tuple[int, list[Any]]], lock: bool) -> None:
        names_by_customer: dict[int | None, set[str]] = defaultdict(set)
        for _number, cells in rows:
            name = self._text(cells, "name")
            customer_id, problem = self._customer_of(cells)
            if name and problem is None:
                names_by_customer[customer_id].add(name)
        found: list[ConfigurationItem] = []
        for customer_id, names in names_by_customer.items():
            for chunk in _chunks(sorted(names)):
                queryset = ConfigurationItem.objects.visible_to(self.actor).filter(name__in=chunk)
                if customer_id is None:
                    queryset = queryset.filter(customer__isnull=True)
                else:
                    queryset = queryset.filter(customer_id=customer_id)
                if lock:
                    queryset = queryset.select_for_update()
                found += queryset.order_by("pk")
        addresses: dict[int, list[str]] = defaultdict(list)
        tags: dict[int, list[str]] = defaultdict(list)
        through: Any = ConfigurationItem.tags.through
        for chunk in _chunks([ci.pk for ci in found]):
            for ci_id, address in CIAddress.objects.filter(ci_id__in=chunk).values_list(
                "ci_id", "address"
            ):
                addresses[ci_id].append(address)
            for ci_id, tag_name in through.objects.filter(
                configurationitem_id__in=chunk
            ).values_list("configurationitem_id", "tag__name"):
                tags[ci_id].append(tag_name)
        team_ids = {ci.owner_team_id for ci in found if ci.owner_team_id is not None}
        team_codes = dict(Team.objects.filter(pk__in=team_ids).values_list("pk", "code"))
        for ci in found:
            self.existing[(ci.customer_id, ci.name)] = _Existing(
                ci=ci,
                addresses=sorted(addresses[ci.pk]),
                tags=sorted(tags[ci.pk]),
                team_code=team_codes.get(ci.owner_team_id, "") if ci.owner_team_id else "",
            )

    def _load_tags(self, plans: RowPlans, names: set[str]) -> None:
        for chunk in _chunks(sorted(names)):
            for tag in Tag.objects.filter(name__in=chunk):
                plans.tags[tag.name] = tag

    # --- rows ----------------------------------------------------------------------------

    def plan(self, rows: Sequence[tuple[int, list[Any]]], *, lock: bool) -> RowPlans:
        """Every row validated; creates, updates, the unchanged count and all problems."""
        plans = RowPlans(errors=self._file_problems())
        if plans.errors:
            return plans
        self._load(rows, lock)
        seen: dict[tuple[int | None, str], int] = {}
        for number, cells in rows:
            problems = _RowErrors(self.header, number)
            self._plan_row(cells, problems, seen, plans)
            problems.flush(plans)
        if not plans.errors:
            wanted = {t for c in plans.creates for t in c.tags}
            wanted |= {t for u in plans.updates for t in u.tags_added}
            self._load_tags(plans, wanted)
        return plans

    def _customer_of(self, cells: Sequence[Any]) -> tuple[int | None, str | None]:
        """(customer id, problem): the row's customer, None meaning a shared provider CI."""
        code = self._text(cells, "customer")
        if self.customer is not None:
            if code and code != self.customer.code:
                return None, _("Every row must belong to customer %(code)s.") % {
                    "code": self.customer.code
                }
            return self.customer.pk, None
        if code:
            found = self.customers.get(code)
            if found is None:
                # The same answer for a code that does not exist and one the actor may not see.
                return None, _("Unknown customer %(code)s.") % {"code": code[:40]}
            return found.pk, None
        return self.actor.customer_id, None  # customer users: their own; staff: shared CI

    def _plan_row(
        self,
        cells: Sequence[Any],
        problems: _RowErrors,
        seen: dict[tuple[int | None, str], int],
        plans: RowPlans,
    ) -> None:
        name = self._text(cells, "name")
        if not name:
            problems.add("name", _("Required."))
        customer_id, customer_problem = self._customer_of(cells)
        if customer_problem is not None:
            problems.add("customer", customer_problem)
        if not name or customer_problem is not None:
            return
        key = (customer_id, name)
        if key in seen:
            problems.add(
                "name",
                _("The same name and customer as row %(row)d: each CI may appear once.")
                % {"row": seen[key]},
            )
            return
        seen[key] = problems.row
        existing = self.existing.get(key)
        ci_type = self._type_of(cells, existing, problems)
        values = self._values(cells, existing, problems)
        addresses = self._addresses(cells, problems)
        tags = self._tags(cells, problems)
        attributes = {
            attr: attribute_value(cells[position] if position < len(cells) else None)
            for attr, position in self.header.attributes.items()
        }
        if ci_type is None:
            return
        if existing is None:
            self._plan_create(
                customer_id, name, ci_type, values, addresses, tags, attributes, problems, plans
            )
        elif not self.may_change:
            problems.add("name", _("This CI exists and you may not change CIs."))
        else:
            self._plan_update(
                existing, ci_type, values, addresses, tags, attributes, problems, plans
            )

    def _type_of(
        self, cells: Sequence[Any], existing: _Existing | None, problems: _RowErrors
    ) -> CIType | None:
        text = self._text(cells, "type")
        if self.ci_type is not None:
            if text and self.types.get(text.lower()) != self.ci_type:
                problems.add(
                    "type", _("Every row must have type %(code)s.") % {"code": self.ci_type.code}
                )
                return None
            return self.ci_type
        if text:
            found = self.types.get(text.lower())
            if found is None:
                problems.add("type", _("Unknown type %(value)s.") % {"value": text[:60]})
            return found
        if existing is not None:
            return existing.ci.ci_type
        problems.add("type", _("Required for a new CI."))
        return None

    def _values(
        self, cells: Sequence[Any], existing: _Existing | None, problems: _RowErrors
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        fields = self.header.fields
        for key, table in self.choices.items():
            text = self._text(cells, key)
            if key not in fields or not text:
                continue  # empty: keep the current value (or the default for a new CI)
            if text.lower() in table:
                values[key] = table[text.lower()]
            else:
                allowed = ", ".join(str(v) for v in CHOICE_COLUMNS[key].values)
                problems.add(
                    key,
                    _("Unknown value %(value)s. Use one of: %(allowed)s.")
                    % {"value": text[:60], "allowed": allowed},
                )
        for key in _TEXT_FIELDS:
            if key in fields:
                values[key] = self._text(cells, key)
        if "owner_team" in fields:
            code = self._text(cells, "owner_team")
            if not code:
                values["owner_team"] = None
            elif code in self.teams:
                values["owner_team"] = self.teams[code]
            elif existing is None or existing.team_code != code:
                # Unchanged teams pass for customer users, who may not look teams up.
                problems.add("owner_team", _("Unknown team %(code)s.") % {"code": code[:40]})
        for key in ("warranty_end", "purchase_date"):
            if key in fields:
                try:
                    values[key] = parse_date(self._cell(cells, key))
                except ValueError:
                    problems.add(key, _("Must be a date (YYYY-MM-DD)."))
        if "cost" in fields:
            try:
                values["cost"] = parse_decimal(self._cell(cells, "cost"))
            except ValueError:
                problems.add("cost", _("Must be a number."))
        return values

    def _addresses(self, cells: Sequence[Any], problems: _RowErrors) -> list[str] | None:
        if "ip_addresses" not in self.header.fields:
            return None
        try:
            return normalise_addresses(split_addresses(self._text(cells, "ip_addresses")))
        except ValidationError as error:
            problems.add_validation(error)
            return None

    def _tags(self, cells: Sequence[Any], problems: _RowErrors) -> list[str] | None:
        if "tags" not in self.header.fields:
            return None
        names = split_tags(self._text(cells, "tags"))
        if any(len(name) > 50 for name in names):
            problems.add("tags", _("A tag is at most 50 characters."))
            return None
        return names

    def _full_clean(self, ci: ConfigurationItem, problems: _RowErrors) -> None:
        try:
            ci.full_clean(exclude=_FOREIGN_KEYS, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            problems.add_validation(error)

    def _plan_create(
        self,
        customer_id: int | None,
        name: str,
        ci_type: CIType,
        values: dict[str, Any],
        addresses: list[str] | None,
        tags: list[str] | None,
        attributes: dict[str, Any],
        problems: _RowErrors,
        plans: RowPlans,
    ) -> None:
        try:
            cleaned = clean_attributes(
                ci_type, {k: v for k, v in attributes.items() if v is not None}
            )
        except ValidationError as error:
            problems.add_validation(error)
            cleaned = {}
        ci = ConfigurationItem(
            customer_id=customer_id,
            ci_type=ci_type,
            name=name,
            attributes=cleaned,
            created_by=self.actor,
            **values,
        )
        if addresses:
            ci.primary_ip = addresses[0]
        self._full_clean(ci, problems)
        if not problems.items:
            plans.creates.append(NewCI(problems.row, ci, addresses or [], tags or []))

    def _plan_update(
        self,
        existing: _Existing,
        ci_type: CIType,
        values: dict[str, Any],
        addresses: list[str] | None,
        tags: list[str] | None,
        attributes: dict[str, Any],
        problems: _RowErrors,
        plans: RowPlans,
    ) -> None:
        ci = existing.ci
        before = ci.audit_snapshot()
        if "status" in values:
            try:
                check_transition(ci, values["status"])
            except ValidationError as error:
                problems.add_validation(error)
        type_changed = ci_type.pk != ci.ci_type_id
        if attributes or type_changed:
            schema_names = {spec["name"] for spec in ci_type.attribute_schema}
            kept = {k: v for k, v in ci.attributes.items() if k in schema_names}
            # Keys the type no longer defines stay as they are unless the type changes.
            stale = (
                {} if type_changed else {k: v for k, v in ci.attributes.items() if k not in kept}
            )
            for name, value in attributes.items():
                if value is None:
                    kept.pop(name, None)
                else:
                    kept[name] = value
            try:
                values["attributes"] = {**stale, **clean_attributes(ci_type, kept)}
            except ValidationError as error:
                problems.add_validation(error)
        for name, value in values.items():
            setattr(ci, name, value)
        ci.ci_type = ci_type
        added: list[str] = []
        removed: list[str] = []
        if addresses is not None:
            ci.primary_ip = addresses[0] if addresses else None
            added = [a for a in addresses if a not in existing.addresses]
            removed = sorted(set(existing.addresses) - set(addresses))
        tags_added: list[str] = []
        tags_removed: list[str] = []
        if tags is not None:
            tags_added = [t for t in tags if t not in existing.tags]
            tags_removed = [t for t in existing.tags if t not in tags]
        after = ci.audit_snapshot()
        diff = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
        if not (diff or added or removed or tags_added or tags_removed):
            if not problems.items:
                plans.unchanged += 1
            return
        self._full_clean(ci, problems)
        if problems.items:
            return
        history: dict[str, Any] = {
            k: [_history_value(old), _history_value(new)] for k, (old, new) in diff.items()
        }
        if added or removed:
            history["ip_addresses"] = [removed, added]
        if tags_added or tags_removed:
            history["tags"] = [tags_removed, tags_added]
        plans.updates.append(
            ChangedCI(
                row=problems.row,
                ci=ci,
                fields={k: new for k, (_old, new) in diff.items()},
                audit=diff,
                history=history,
                addresses_added=added,
                addresses_removed=removed,
                tags_added=tags_added,
                tags_removed=tags_removed,
            )
        )
