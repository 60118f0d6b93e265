"""Helpers shared by the CMDB page tests."""

from __future__ import annotations

from typing import Any

from django.test import Client

from opsassure.cmdb import services
from opsassure.cmdb.models import CIType
from opsassure.core.models import Customer, User

LIST = "/cmdb/cis/"


def browser(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def htmx(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_HX_REQUEST="true")
    client.force_login(user)
    return client


def make(customer: Customer | None, name: str, type_code: str = "server", **values: Any) -> Any:
    return services.create_ci(
        actor=None,
        customer_id=customer.pk if customer else None,
        ci_type=CIType.objects.get(code=type_code),
        name=name,
        **values,
    )


def listed(client: Client, query: str = "") -> list[str]:
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 200, response.content[:500]
    return [ci.name for ci in response.context["cis"]]
