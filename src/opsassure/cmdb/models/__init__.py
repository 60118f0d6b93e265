from opsassure.cmdb.models.compliance import (
    ConfigAuditFinding,
    ConfigAuditRule,
    ConfigAuditRun,
    ConfigAuditScore,
)
from opsassure.cmdb.models.discovery import Discovery, Discrepancy
from opsassure.cmdb.models.items import (
    CIAddress,
    ConfigurationItem,
    Location,
    MaintenanceContract,
    Supplier,
    Tag,
)
from opsassure.cmdb.models.relations import CIChange, Relation
from opsassure.cmdb.models.types import (
    ACYCLIC_RELATIONS,
    IMPACT_DIRECTION,
    LIFECYCLE_TRANSITIONS,
    AttributeKind,
    CIType,
    Criticality,
    Environment,
    Lifecycle,
    RelationType,
)

__all__ = [
    "ACYCLIC_RELATIONS",
    "IMPACT_DIRECTION",
    "LIFECYCLE_TRANSITIONS",
    "AttributeKind",
    "CIAddress",
    "CIChange",
    "CIType",
    "ConfigAuditFinding",
    "ConfigAuditRule",
    "ConfigAuditRun",
    "ConfigAuditScore",
    "ConfigurationItem",
    "Criticality",
    "Discovery",
    "Discrepancy",
    "Environment",
    "Lifecycle",
    "Location",
    "MaintenanceContract",
    "Relation",
    "RelationType",
    "Supplier",
    "Tag",
]
