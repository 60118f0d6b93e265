"""Alerting permissions per role (merged into the core roles after every migrate).

Staff read everything in their scope; engineers and operators acknowledge groups and create
silences and maintenance windows; service managers also manage integrations, routing and
inhibition rules. Customer users see their own customer's alerts, silences and maintenance
windows (read-only); integrations (whose URL is a secret) stay with the provider.
"""

_CUSTOMER_READ = [
    "alerting.view_alert",
    "alerting.view_alertgroup",
    "alerting.view_alertevent",
    "alerting.view_silence",
    "alerting.view_maintenancewindow",
]
_STAFF_READ = [
    *_CUSTOMER_READ,
    "alerting.view_integration",
    "alerting.view_routingrule",
    "alerting.view_inhibitionrule",
]
_OPERATE = [
    "alerting.change_alertgroup",
    "alerting.add_silence",
    "alerting.change_silence",
    "alerting.add_maintenancewindow",
    "alerting.change_maintenancewindow",
    "alerting.delete_maintenancewindow",
]
_ADMIN = [
    "alerting.add_integration",
    "alerting.change_integration",
    "alerting.add_routingrule",
    "alerting.change_routingrule",
    "alerting.delete_routingrule",
    "alerting.add_inhibitionrule",
    "alerting.change_inhibitionrule",
    "alerting.delete_inhibitionrule",
    "alerting.delete_silence",
]

PERMISSIONS = {
    "service_manager": _STAFF_READ + _OPERATE + _ADMIN,
    "engineer": _STAFF_READ + _OPERATE,
    "operator": _STAFF_READ + _OPERATE,
    "auditor": _STAFF_READ,
    "customer_admin": _CUSTOMER_READ,
    "customer_user": _CUSTOMER_READ,
}
