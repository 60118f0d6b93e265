"""Service catalog permissions per role (merged into the core roles after every migrate).

Service managers maintain calendars, the service catalogue and SLA policies; engineers,
operators and auditors read them. Customer users read their own customer's catalogue and
policies, their own calendars and the provider-wide calendars their SLAs are measured in
(never another customer's, and never the internal OLA targets — the API hides those).
"""

_CALENDARS = ("servicecalendar", "workinginterval", "calendarday")
_CATALOGUE = ("service", "slapolicy", "prioritymatrixcell", "slatarget", "olatarget")
_MODELS = _CALENDARS + _CATALOGUE
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
