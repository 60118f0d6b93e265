"""CMDB demo data: a hospital's and a brokerage's estates, related, with planted audit findings.

Called by ``core.demo.load_demo`` after the core data (customers JCH and RFS, teams SD, SYS,
NET exist). Idempotent: vocabulary rows (tags, suppliers, locations, contracts, the custom
type) are upserted on their natural keys and written only when a value differs; CIs and
relations are created through the CMDB services only when missing — once created they belong
to their users (their lifecycle may have moved on), so a second load changes nothing and
records nothing. What the data contains is described in ``cmdb/demo_data.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils import timezone

from opsassure.cmdb import demo_data as data
from opsassure.cmdb import services
from opsassure.cmdb.models import (
    CIType,
    ConfigurationItem,
    Location,
    MaintenanceContract,
    Relation,
    Supplier,
    Tag,
)
from opsassure.cmdb.schema import validate_schema
from opsassure.core.models import Customer, Team

M = TypeVar("M", bound=models.Model)

# Purchase price and depreciation of the physical demo assets, by type.
_COST = {
    "server": Decimal("168000.00"),
    "network_device": Decimal("62000.00"),
    "security_device": Decimal("96000.00"),
    "storage": Decimal("850000.00"),
    "power_cooling": Decimal("145000.00"),
}
_WARRANTY_YEARS = 3


def upsert(
    model: type[M],
    lookup: dict[str, Any],
    values: dict[str, Any],
    create_only: dict[str, Any] | None = None,
) -> M:
    """``update_or_create`` that saves only when a value differs (no write, no audit event).

    ``create_only`` values are set when the row is created and left alone afterwards (dates
    relative to the day of the first load).
    """
    manager: Any = model._default_manager
    obj: M | None = manager.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values, **(create_only or {}))
        obj.full_clean()
        obj.save()
        return obj
    changed = False
    for name, value in values.items():
        field = model._meta.get_field(name)
        wanted = value.pk if isinstance(value, models.Model) else value
        if getattr(obj, field.attname) != wanted:  # type: ignore[union-attr]
            setattr(obj, name, value)
            changed = True
    if changed:
        obj.full_clean()
        obj.save()
    return obj


def _vocabulary() -> dict[str, Supplier]:
    for name, color in data.TAGS.items():
        upsert(Tag, {"name": name}, {"color": color})
    spec = data.CLUSTER_TYPE
    upsert(
        CIType,
        {"code": spec["code"]},
        {
            "name": spec["name"],
            "icon": spec["icon"],
            "sort_order": spec["sort_order"],
            "attribute_schema": validate_schema(spec["attribute_schema"]),
            "is_builtin": False,
        },
    )
    return {
        name: upsert(Supplier, {"name": name}, {"contact": contact, "phone": phone})
        for name, (contact, phone) in data.SUPPLIERS.items()
    }


def _locations(customers: dict[str | None, Customer | None]) -> dict[tuple[str | None, str], Any]:
    found: dict[tuple[str | None, str], Location] = {}
    for code, rows in data.LOCATIONS.items():
        for kind, name, parent_name in rows:
            parent = found[(code, parent_name)] if parent_name else None
            found[(code, name)] = upsert(
                Location,
                {"customer": customers[code], "parent": parent, "name": name},
                {"kind": kind},
            )
    return found


def _contracts(
    customers: dict[str | None, Customer | None], suppliers: dict[str, Supplier], today: dt.date
) -> dict[tuple[str, str], MaintenanceContract]:
    found: dict[tuple[str, str], MaintenanceContract] = {}
    for code, rows in data.CONTRACTS.items():
        for number, supplier, level, start, end in rows:
            found[(code, number)] = upsert(
                MaintenanceContract,
                {"customer": customers[code], "number": number},
                {"supplier": suppliers[supplier], "service_level": level},
                create_only={
                    "starts_on": today + dt.timedelta(days=start),
                    "ends_on": today + dt.timedelta(days=end),
                },
            )
    return found


def _ci_values(
    code: str | None,
    index: int,
    spec: dict[str, Any],
    teams: dict[str, Team],
    locations: dict[tuple[str | None, str], Location],
    contracts: dict[tuple[str, str], MaintenanceContract],
    now: dt.datetime,
) -> dict[str, Any]:
    """The service arguments for one CI spec (dates relative to ``now``)."""
    today = now.date()
    values: dict[str, Any] = {
        key: spec[key]
        for key in (
            "status",
            "environment",
            "criticality",
            "hostname",
            "vendor",
            "model",
            "serial_number",
            "description",
            "monitoring_endpoint",
            "rack_unit",
        )
        if key in spec
    }
    values["attributes"] = spec.get("attrs", {})
    values["owner_team"] = teams[spec["team"]] if "team" in spec else None
    place = spec.get("rack") or spec.get("room")
    values["location"] = locations[(code, place)] if place else None
    verified = spec.get("verified", 20 + index % 40)
    values["verified_at"] = None if verified is None else now - dt.timedelta(days=verified)
    if "contract" in spec and code is not None:
        contract = contracts[(code, spec["contract"])]
        values["maintenance_contract"] = contract
        values["supplier"] = contract.supplier
    if spec["type"] in _COST:
        warranty_end = today + dt.timedelta(days=spec.get("warranty", 720))
        values["warranty_end"] = warranty_end
        values["purchase_date"] = warranty_end - dt.timedelta(days=365 * _WARRANTY_YEARS)
        values["cost"] = _COST[spec["type"]]
        values["depreciation_months"] = 60
        values["asset_tag"] = f"{code or 'OPS'}-ZC-{index + 1:04d}"
    return values


def load(console: Any) -> None:
    """Create what is missing of the CMDB demo; a second call changes nothing."""
    from rich.progress import track

    from opsassure.core.audit import AuditContext, audit_context

    now = timezone.now().replace(microsecond=0)
    with audit_context(AuditContext(actor_username="demo")), transaction.atomic():
        customers: dict[str | None, Customer | None] = {
            code: Customer.objects.get(code=code) for code in data.RELATIONS
        }
        customers[None] = None
        teams = {team.code: team for team in Team.objects.filter(code__in=["SD", "SYS", "NET"])}
        suppliers = _vocabulary()
        locations = _locations(customers)
        contracts = _contracts(customers, suppliers, timezone.localdate())
        types = {ci_type.code: ci_type for ci_type in CIType.objects.all()}
        work = [
            (code, index, spec)
            for code, specs in data.CIS.items()
            for index, spec in enumerate(specs)
        ]
        items = track(work, description="CMDB demo", console=console) if console else work
        by_key: dict[tuple[str | None, str], ConfigurationItem] = {}
        for code, index, spec in items:
            customer = customers[code]
            customer_id = customer.pk if customer is not None else None
            ci = ConfigurationItem.objects.filter(customer=customer, name=spec["name"]).first()
            if ci is None:
                ci = services.create_ci(
                    actor=None,
                    customer_id=customer_id,
                    ci_type=types[spec["type"]],
                    name=spec["name"],
                    ip_addresses=spec.get("ip", []),
                    tags=spec.get("tags", []),
                    source="system",
                    **_ci_values(code, index, spec, teams, locations, contracts, now),
                )
            by_key[(code, spec["key"])] = ci
        for code, relations in data.RELATIONS.items():
            for source_key, relation_type, target_key, note in relations:
                source = by_key[(code, source_key)]
                target = by_key.get((code, target_key)) or by_key[(None, target_key)]
                exists = Relation.objects.filter(
                    source=source, target=target, relation_type=relation_type
                ).exists()
                if not exists:
                    services.add_relation(
                        actor=None,
                        source=source,
                        target=target,
                        relation_type=relation_type,
                        note=note,
                        origin="system",
                    )
