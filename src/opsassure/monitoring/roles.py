"""Monitoring permissions per role (merged into the core roles after every migrate).

Staff read everything in their scope. Engineers and operators create and change checks
(operators pause and resume them during work); service managers also delete checks, manage
probes, agent tokens and threshold rules. Customer admins manage their own customer's checks
and agent tokens; customer users read their checks, results and host metrics. Probes (their
tokens reach every customer's checks) stay with the provider.
"""

from opsassure.monitoring.roles_metrics import PERMISSIONS as METRICS_PERMISSIONS

_CUSTOMER_READ = [
    "monitoring.view_monitor",
    "monitoring.view_checkresult",
    "monitoring.view_checkrollup",
    "monitoring.view_metricseries",
    "monitoring.view_sample",
    "monitoring.view_samplerollup",
    "monitoring.view_agent",
    "monitoring.view_thresholdrule",
    "monitoring.view_rulestate",
]
_STAFF_READ = [
    *_CUSTOMER_READ,
    "monitoring.view_probe",
    "monitoring.view_resultbatch",
    "monitoring.view_monitorprobestate",
    "monitoring.view_agenttoken",
]
_OPERATE = [
    "monitoring.add_monitor",
    "monitoring.change_monitor",
]
_ENGINEER = [
    *_OPERATE,
    "monitoring.add_thresholdrule",
    "monitoring.change_thresholdrule",
]
_ADMIN = [
    *_ENGINEER,
    "monitoring.delete_monitor",
    "monitoring.add_probe",
    "monitoring.change_probe",
    "monitoring.delete_thresholdrule",
    "monitoring.add_agenttoken",
    "monitoring.change_agenttoken",
]

PERMISSIONS: dict[str, list[str]] = {
    "service_manager": _STAFF_READ + _ADMIN,
    "engineer": _STAFF_READ + _ENGINEER,
    "operator": _STAFF_READ + _OPERATE,
    "auditor": _STAFF_READ,
    "customer_admin": [
        *_CUSTOMER_READ,
        "monitoring.add_monitor",
        "monitoring.change_monitor",
        "monitoring.delete_monitor",
        "monitoring.view_agenttoken",
        "monitoring.add_agenttoken",
        "monitoring.change_agenttoken",
    ],
    "customer_user": _CUSTOMER_READ,
}

# The metrics part's permissions (agents, agent tokens, series, threshold rules), added per
# role: engineers also delete threshold rules and enrol hosts.
for _role, _extra in METRICS_PERMISSIONS.items():
    PERMISSIONS[_role] = list(dict.fromkeys([*PERMISSIONS.get(_role, []), *_extra]))
