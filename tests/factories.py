"""One sample-maker per model exposed through the API or a UI list.

The generic tenant isolation test (tests/test_isolation.py) creates a sample owned by customer
B and one owned by customer A for every registered route and list, and fails for any model
missing here — so a new app cannot register a route without being covered.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from django.db import models

from opsassure.catalog import services as catalog_services
from opsassure.catalog.models import CalendarDay, ServiceCalendar, WorkingInterval
from opsassure.cmdb import services as cmdb_services
from opsassure.cmdb.models import (
    CIChange,
    CIType,
    ConfigurationItem,
    Location,
    MaintenanceContract,
    Relation,
    Supplier,
    Tag,
)
from opsassure.core import audit
from opsassure.core.models import ApiToken, AuditEvent, Customer, CustomerContact, Team, User
from tests.conftest import World, make_user

_counter = itertools.count(1)


@dataclass
class Sample:
    obj: models.Model
    marker: str  # text that shows the object in a page or payload
    provider_visible: bool = False  # provider staff of any team may legitimately see it
    personal: bool = False  # only its owner sees it (no positive control for other personas)
    shared: bool = False  # provider-wide vocabulary every signed-in user may read (CI types)


def _customer(world: World, customer: Customer) -> Sample:
    return Sample(customer, customer.name)


def _contact(world: World, customer: Customer) -> Sample:
    name = f"Contact-{customer.code}-{next(_counter)}"
    return Sample(CustomerContact.objects.create(customer=customer, name=name), name)


def _team(world: World, customer: Customer) -> Sample:
    code = f"T{customer.code}{next(_counter)}"
    team = Team.objects.create(code=code, name=f"Team-serving-{code}")
    team.customers.add(customer)
    return Sample(team, team.name, provider_visible=True)


def _user(world: World, customer: Customer) -> Sample:
    user = make_user(
        f"user-{customer.code.lower()}-{next(_counter)}", "customer_user", customer=customer
    )
    return Sample(user, user.username)


def _token(world: World, customer: Customer) -> Sample:
    from opsassure.core.services import create_token

    owner = world.customer_b_user if customer == world.customer_b else world.customer_a_user
    name = f"token-{customer.code}-{next(_counter)}"
    return Sample(create_token(owner, name).token, name, personal=True)


def _audit_event(world: World, customer: Customer) -> Sample:
    marker = f"audit-marker-{customer.code}-{next(_counter)}"
    event = audit.record(
        AuditEvent.Action.EXPORT,
        object_type="test.sample",
        object_repr=marker,
        customer_id=customer.pk,
    )
    return Sample(event, marker)


def _ci(customer: Customer, type_code: str = "server", name: str = "") -> ConfigurationItem:
    from opsassure.cmdb.builtin import seed_builtins

    seed_builtins()
    return cmdb_services.create_ci(
        actor=None,
        customer_id=customer.pk,
        ci_type=CIType.objects.get(code=type_code),
        name=name or f"ci-{customer.code}-{next(_counter)}",
        ip_addresses=[f"10.{customer.pk % 250}.{next(_counter) % 250}.{next(_counter) % 250}"],
    )


def _configuration_item(world: World, customer: Customer) -> Sample:
    ci = _ci(customer)
    return Sample(ci, ci.name)


def _relation(world: World, customer: Customer) -> Sample:
    source, target = _ci(customer), _ci(customer)
    relation = cmdb_services.add_relation(
        actor=None, source=source, target=target, relation_type="depends_on"
    )
    return Sample(relation, source.name)


def _ci_change(world: World, customer: Customer) -> Sample:
    ci = _ci(customer)
    return Sample(ci.changes.get(), ci.name)


def _ci_type(world: World, customer: Customer) -> Sample:
    code = f"custom{next(_counter)}"
    return Sample(CIType.objects.create(code=code, name=code), code, shared=True)


def _tag(world: World, customer: Customer) -> Sample:
    name = f"tag-{next(_counter)}"
    return Sample(Tag.objects.create(name=name), name, shared=True)


def _supplier(world: World, customer: Customer) -> Sample:
    name = f"supplier-{next(_counter)}"
    return Sample(Supplier.objects.create(name=name), name, provider_visible=True)


def _location(world: World, customer: Customer) -> Sample:
    name = f"room-{customer.code}-{next(_counter)}"
    return Sample(Location.objects.create(customer=customer, kind="room", name=name), name)


def _contract(world: World, customer: Customer) -> Sample:
    number = f"WB-{customer.code}-{next(_counter)}"
    supplier = Supplier.objects.create(name=f"s-{number}")
    contract = MaintenanceContract.objects.create(
        customer=customer,
        supplier=supplier,
        number=number,
        starts_on=datetime.date(2026, 1, 1),
        ends_on=datetime.date(2027, 1, 1),
    )
    return Sample(contract, number)


def _service_calendar(customer: Customer) -> ServiceCalendar:
    code = f"cal-{customer.code}-{next(_counter)}"
    return catalog_services.create_calendar(
        customer=customer, code=code, name=f"Calendar {code}", intervals=[(0, 480, 1080)]
    )


def _calendar(world: World, customer: Customer) -> Sample:
    # A customer's own calendar: the tenant boundary. Provider-wide calendars (no customer)
    # are readable by every signed-in user by design; tests/catalog/test_api.py covers that.
    calendar = _service_calendar(customer)
    return Sample(calendar, calendar.code)


def _working_interval(world: World, customer: Customer) -> Sample:
    calendar = _service_calendar(customer)
    return Sample(calendar.intervals.get(), calendar.code)


def _calendar_day(world: World, customer: Customer) -> Sample:
    calendar = _service_calendar(customer)
    name = f"closure-{calendar.code}"
    day = catalog_services.set_day(
        calendar, date=datetime.date(2026, 10, 9), kind=CalendarDay.Kind.CLOSED, name=name
    )
    return Sample(day, name)


FACTORIES: dict[type[models.Model], Callable[[World, Customer], Sample]] = {
    Customer: _customer,
    CustomerContact: _contact,
    Team: _team,
    User: _user,
    ApiToken: _token,
    AuditEvent: _audit_event,
    ConfigurationItem: _configuration_item,
    Relation: _relation,
    CIChange: _ci_change,
    CIType: _ci_type,
    Tag: _tag,
    Supplier: _supplier,
    Location: _location,
    MaintenanceContract: _contract,
    ServiceCalendar: _calendar,
    WorkingInterval: _working_interval,
    CalendarDay: _calendar_day,
}
