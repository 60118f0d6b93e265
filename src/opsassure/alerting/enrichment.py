"""Finding an alert's CI in the CMDB from its labels (instance, host, hostname, ip …).

``instance`` is usually ``host:port`` (Prometheus); the port is dropped. A value that is an IP
address is looked up in the CI's addresses and primary IP, anything else as a hostname or CI
name. Only CIs of the integration's customer (and shared provider CIs) are candidates; for a
provider-wide integration any CI is, and the CI then gives the customer.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from django.db.models import Q

from opsassure.cmdb.models import CIAddress, ConfigurationItem

CI_ID_LABEL = "opsassure_ci_id"
LABELS = ("instance", "host", "hostname", "ip", "ident", "node", "server", "address")


def _candidate(value: str) -> str:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [ipv6]:port
        return value[1 : value.index("]")]
    if value.count(":") == 1:  # host:port
        value = value.split(":", 1)[0]
    return value.strip().lower()


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


@dataclass
class Enricher:
    """Caches lookups for one batch (the same instance repeats across a batch)."""

    customer_id: int | None
    cache: dict[str, int | None] = field(default_factory=dict)

    def _scope(self) -> Q:
        if self.customer_id is None:
            return Q()
        return Q(customer_id=self.customer_id) | Q(customer__isnull=True)

    def lookup(self, value: str) -> int | None:
        key = _candidate(value)
        if not key:
            return None
        if key in self.cache:
            return self.cache[key]
        found: int | None
        if _is_ip(key):
            found = (
                CIAddress.objects.filter(address=key)
                .filter(
                    Q(ci__customer_id=self.customer_id) | Q(ci__customer__isnull=True)
                    if self.customer_id is not None
                    else Q()
                )
                .order_by("ci_id")
                .values_list("ci_id", flat=True)
                .first()
            )
            if found is None:
                found = (
                    ConfigurationItem.objects.filter(self._scope(), primary_ip=key)
                    .order_by("pk")
                    .values_list("pk", flat=True)
                    .first()
                )
        else:
            short = key.split(".", 1)[0]
            found = (
                ConfigurationItem.objects.filter(self._scope())
                .filter(
                    Q(hostname__iexact=key)
                    | Q(name__iexact=key)
                    | (Q(hostname__iexact=short) if short != key else Q(pk__in=[]))
                )
                .order_by("pk")
                .values_list("pk", flat=True)
                .first()
            )
        self.cache[key] = found
        return found

    def ci_for(self, labels: dict[str, str]) -> int | None:
        # OpsAssure's own monitoring names the CI outright; still only within the scope.
        explicit = labels.get(CI_ID_LABEL, "")
        if explicit.isdigit():
            return (
                ConfigurationItem.objects.filter(self._scope(), pk=int(explicit))
                .values_list("pk", flat=True)
                .first()
            )
        for name in LABELS:
            value = labels.get(name)
            if value:
                found = self.lookup(value)
                if found is not None:
                    return found
        return None
