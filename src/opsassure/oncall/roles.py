"""On-call permissions per role (merged into the core roles after every migrate).

Schedules, handovers and policies are provider-internal: customer roles get nothing here.
Responding to an escalation (acknowledge, resolve, escalate now) needs
``change_escalationrun``; the signed link in a message needs no login at all.
"""

_READ = [
    "oncall.view_schedule",
    "oncall.view_layer",
    "oncall.view_override",
    "oncall.view_handover",
    "oncall.view_escalationpolicy",
    "oncall.view_escalationrun",
]
_RESPOND = [
    "oncall.add_override",
    "oncall.add_handover",
    "oncall.change_handover",
    "oncall.change_escalationrun",
]
_MANAGE = [
    "oncall.add_schedule",
    "oncall.change_schedule",
    "oncall.delete_schedule",
    "oncall.add_layer",
    "oncall.change_layer",
    "oncall.delete_layer",
    "oncall.change_override",
    "oncall.delete_override",
    "oncall.add_escalationpolicy",
    "oncall.change_escalationpolicy",
    "oncall.delete_escalationpolicy",
]

PERMISSIONS = {
    "service_manager": _READ + _RESPOND + _MANAGE,
    "engineer": _READ + _RESPOND,
    "operator": _READ + _RESPOND,
    "auditor": _READ,
}
