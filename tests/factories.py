"""One sample-maker per model exposed through the API or a UI list.

The generic tenant isolation test (tests/test_isolation.py) creates a sample owned by customer
B and one owned by customer A for every registered route and list, and fails for any model
missing here — so a new app cannot register a route without being covered.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from django.db import models

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


FACTORIES: dict[type[models.Model], Callable[[World, Customer], Sample]] = {
    Customer: _customer,
    CustomerContact: _contact,
    Team: _team,
    User: _user,
    ApiToken: _token,
    AuditEvent: _audit_event,
}
