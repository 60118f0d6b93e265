"""Alerting models: integrations, batches, alerts, groups, timeline, rules."""

from opsassure.alerting.models.alerts import (
    OPEN_GROUP_STATES,
    SEVERITY_RANK,
    Alert,
    AlertEvent,
    AlertGroup,
    AlertStatus,
    GroupState,
    Severity,
)
from opsassure.alerting.models.integrations import (
    DefaultAction,
    IngestBatch,
    Integration,
    IntegrationKind,
    RateWindow,
    hash_secret,
    new_token,
)
from opsassure.alerting.models.rules import (
    InhibitionRule,
    MaintenanceWindow,
    Recurrence,
    RoutingAction,
    RoutingRule,
    Silence,
)

__all__ = [
    "OPEN_GROUP_STATES",
    "SEVERITY_RANK",
    "Alert",
    "AlertEvent",
    "AlertGroup",
    "AlertStatus",
    "DefaultAction",
    "GroupState",
    "IngestBatch",
    "InhibitionRule",
    "Integration",
    "IntegrationKind",
    "MaintenanceWindow",
    "RateWindow",
    "Recurrence",
    "RoutingAction",
    "RoutingRule",
    "Severity",
    "Silence",
    "hash_secret",
    "new_token",
]
