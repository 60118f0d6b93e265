"""Permissions of the metrics part (agents, agent tokens, metric series, threshold rules),
merged into ``monitoring/roles.py``: ``PERMISSIONS`` there adds these lists per role.

Provider staff read everything in their scope; engineers and service managers manage
threshold rules and agent tokens. Customer admins enrol their own hosts (agent tokens) and
read their agents, metrics and rules; customer users read their metrics and rules.
"""

_CUSTOMER_READ = [
    "monitoring.view_agent",
    "monitoring.view_metricseries",
    "monitoring.view_thresholdrule",
]
_STAFF_READ = [*_CUSTOMER_READ, "monitoring.view_agenttoken"]
_RULES = [
    "monitoring.add_thresholdrule",
    "monitoring.change_thresholdrule",
    "monitoring.delete_thresholdrule",
]
_TOKENS = ["monitoring.add_agenttoken", "monitoring.change_agenttoken"]

PERMISSIONS: dict[str, list[str]] = {
    "service_manager": _STAFF_READ + _RULES + _TOKENS,
    "engineer": _STAFF_READ + _RULES + _TOKENS,
    "operator": _STAFF_READ,
    "auditor": _STAFF_READ,
    "customer_admin": [*_CUSTOMER_READ, "monitoring.view_agenttoken", *_TOKENS],
    "customer_user": _CUSTOMER_READ,
}
