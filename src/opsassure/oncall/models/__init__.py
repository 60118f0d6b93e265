"""On-call models: schedules (layers, overrides, handovers) and escalations."""

from opsassure.notify.models import Severity
from opsassure.oncall.models.escalations import (
    EscalationPolicy,
    EscalationPolicyStep,
    EscalationRun,
    EscalationStep,
)
from opsassure.oncall.models.schedules import (
    Handover,
    Layer,
    LayerParticipant,
    Override,
    PersonalFeed,
    Schedule,
)

__all__ = [
    "EscalationPolicy",
    "EscalationPolicyStep",
    "EscalationRun",
    "EscalationStep",
    "Handover",
    "Layer",
    "LayerParticipant",
    "Override",
    "PersonalFeed",
    "Schedule",
    "Severity",
]
