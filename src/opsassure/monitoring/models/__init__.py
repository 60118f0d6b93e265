"""Monitoring models: probes, checks (model ``Monitor``), results, metrics, threshold rules.

The model for a check is called ``Monitor`` because ``check`` is a method name on every
Django model (system checks); in the UI and the docs it is a "check" (检查).
"""

from opsassure.monitoring.models.checks import (
    CheckKind,
    CheckResult,
    CheckRollup,
    CheckState,
    Monitor,
    MonitorProbeState,
    ResultStatus,
)
from opsassure.monitoring.models.common import Period, Severity, new_key_id
from opsassure.monitoring.models.metrics import (
    Agent,
    AgentToken,
    MetricSeries,
    Operator,
    RuleState,
    RuleStateValue,
    Sample,
    SampleRollup,
    ThresholdRule,
)
from opsassure.monitoring.models.probes import Probe, ResultBatch, RollupBacklog

__all__ = [
    "Agent",
    "AgentToken",
    "CheckKind",
    "CheckResult",
    "CheckRollup",
    "CheckState",
    "MetricSeries",
    "Monitor",
    "MonitorProbeState",
    "Operator",
    "Period",
    "Probe",
    "ResultBatch",
    "ResultStatus",
    "RollupBacklog",
    "RuleState",
    "RuleStateValue",
    "Sample",
    "SampleRollup",
    "Severity",
    "ThresholdRule",
    "new_key_id",
]
