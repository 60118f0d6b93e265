from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from opsassure.cmdb import services
from opsassure.cmdb.builtin import seed_builtins
from opsassure.cmdb.models import CIType, ConfigurationItem
from opsassure.core.models import Customer


@pytest.fixture
def builtin_types(db: None) -> None:
    seed_builtins()


@pytest.fixture
def make_ci(builtin_types: None) -> Callable[..., ConfigurationItem]:
    def make(
        customer: Customer | None, name: str, type_code: str = "virtual_machine", **values: Any
    ) -> ConfigurationItem:
        return services.create_ci(
            actor=None,
            customer_id=customer.pk if customer else None,
            ci_type=CIType.objects.get(code=type_code),
            name=name,
            **values,
        )

    return make
