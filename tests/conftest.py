"""Personas shared by every test: provider staff of each role, customers A and B, an outsider."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.utils import translation
from rest_framework.test import APIClient

from opsassure.core.models import Customer, Team, User
from opsassure.core.roles import sync_roles

PASSWORD = "correct horse battery staple"


def make_user(
    username: str, role: str | None, customer: Customer | None = None, teams: Iterable[Team] = ()
) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        customer=customer,
        display_name=username.replace("_", " ").title(),
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    for team in teams:
        team.members.add(user)
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions or scope


@pytest.fixture(autouse=True)
def _english_outside_requests() -> Iterator[None]:
    """Service-level messages in English (the default language is zh-hans); requests still
    choose their language through the middleware, as in production."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_calendar_engines() -> None:
    """Business-time engines are cached per (calendar id, revision); ids are reused after a
    test's rollback, so every test starts with an empty cache."""
    from opsassure.catalog.queries import clear_engine_cache

    clear_engine_cache()


@dataclass
class World:
    customer_a: Customer
    customer_b: Customer
    team_a: Team
    team_b: Team
    manager: User
    engineer_a: User
    operator_a: User
    auditor: User
    customer_a_admin: User
    customer_a_user: User
    customer_b_user: User
    outsider: User

    def fresh(self, user: User) -> User:
        return User.objects.get(pk=user.pk)


@pytest.fixture
def world(db: None) -> World:
    sync_roles()
    customer_a = Customer.objects.create(code="A", name="Customer A 医院")
    customer_b = Customer.objects.create(code="B", name="Customer B 证券")
    team_a = Team.objects.create(code="TA", name="Team A")
    team_b = Team.objects.create(code="TB", name="Team B")
    team_a.customers.add(customer_a)
    team_b.customers.add(customer_b)
    return World(
        customer_a=customer_a,
        customer_b=customer_b,
        team_a=team_a,
        team_b=team_b,
        manager=make_user("manager", "service_manager"),
        engineer_a=make_user("engineer_a", "engineer", teams=[team_a]),
        operator_a=make_user("operator_a", "operator", teams=[team_a]),
        auditor=make_user("auditor", "auditor"),
        customer_a_admin=make_user("a_admin", "customer_admin", customer=customer_a),
        customer_a_user=make_user("a_user", "customer_user", customer=customer_a),
        customer_b_user=make_user("b_user", "customer_user", customer=customer_b),
        outsider=make_user("outsider", None),
    )


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def api_as(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client
