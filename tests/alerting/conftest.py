from __future__ import annotations

import pytest
from django.test import Client

from opsassure.alerting.models import Integration
from opsassure.catalog.policies import ensure_default_policy
from tests.conftest import World


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def am(world: World) -> Integration:
    ensure_default_policy(world.customer_a)
    return Integration.objects.create(
        name="Prometheus A", kind="alertmanager", customer=world.customer_a
    )
