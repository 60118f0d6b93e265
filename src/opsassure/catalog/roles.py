"""Service catalog permissions per role (merged into the core roles after every migrate).

Service managers maintain calendars; everyone else reads them. Customer users read their own
customer's calendars and the provider-wide ones their SLAs are measured in.
"""

_MODELS = ("servicecalendar", "workinginterval", "calendarday")
_READ = [f"catalog.view_{model}" for model in _MODELS]
_MANAGE = [
    f"catalog.{action}_{model}" for model in _MODELS for action in ("add", "change", "delete")
]

PERMISSIONS = {
    "service_manager": _READ + _MANAGE,
    "engineer": _READ,
    "operator": _READ,
    "auditor": _READ,
    "customer_admin": _READ,
    "customer_user": _READ,
}
