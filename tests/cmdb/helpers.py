"""Small builders shared by the CMDB discovery and Prometheus SD tests."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from opsassure.cmdb import services
from opsassure.cmdb.builtin import seed_builtins
from opsassure.cmdb.models import CIType, ConfigurationItem
from opsassure.core.models import Customer, User
from tests.conftest import make_user

_names = itertools.count(1)

AGENT_PERMISSIONS = ("add_discovery", "view_discovery", "view_discrepancy")


def make_ci(
    customer: Customer | None,
    name: str,
    *,
    type_code: str = "server",
    ip_addresses: tuple[str, ...] = (),
    **values: Any,
) -> ConfigurationItem:
    seed_builtins()
    return services.create_ci(
        actor=None,
        customer_id=customer.pk if customer else None,
        ci_type=CIType.objects.get(code=type_code),
        name=name,
        ip_addresses=ip_addresses,
        **values,
    )


def make_agent(customer: Customer | None, permissions: tuple[str, ...] = AGENT_PERMISSIONS) -> User:
    """A probe/agent account: a user holding just the discovery permissions."""
    code = customer.code.lower() if customer else "provider"
    user = make_user(f"agent-{code}-{next(_names)}", None, customer=customer)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="cmdb", codename__in=permissions)
    )
    return User.objects.get(pk=user.pk)


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client
