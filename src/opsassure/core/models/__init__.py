"""Core models: tenants, people, teams, tokens, the audit trail and process heartbeats."""

from opsassure.core.models.audit import AuditEvent
from opsassure.core.models.base import (
    AuditedModel,
    ProviderOnlyQuerySet,
    SharedQuerySet,
    TenantOwnedModel,
    TenantQuerySet,
    TimeStampedModel,
)
from opsassure.core.models.health import Heartbeat, Lease
from opsassure.core.models.tenancy import Customer, CustomerContact, Team
from opsassure.core.models.tokens import ApiToken
from opsassure.core.models.users import User

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditedModel",
    "Customer",
    "CustomerContact",
    "Heartbeat",
    "Lease",
    "ProviderOnlyQuerySet",
    "SharedQuerySet",
    "Team",
    "TenantOwnedModel",
    "TenantQuerySet",
    "TimeStampedModel",
    "User",
]
