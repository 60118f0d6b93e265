"""In-process hooks of the catalog on lower-layer events (connected in ``CatalogConfig.ready``).

Customers live in ``core``, which must not import the catalog (ARCHITECTURE.md §3), so the
catalog listens: every new customer gets its default SLA policy in the same transaction, so
its first ticket already has SLA clocks.
"""

from __future__ import annotations

from typing import Any

from opsassure.core.models import Customer


def give_new_customer_a_default_policy(
    sender: type[Customer], instance: Customer, created: bool, raw: bool = False, **_: Any
) -> None:
    if not created or raw:  # fixtures (loaddata) bring their own rows
        return
    from opsassure.catalog.policies import ensure_default_policy

    ensure_default_policy(instance)
