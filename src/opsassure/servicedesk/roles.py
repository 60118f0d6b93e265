"""Service-desk permissions per role (merged into the core roles after every migrate).

Provider staff who work tickets hold ``work_ticket`` (assign, move, internal notes, record
arrival); the tenant scope decides whose tickets. Customer users open, read, reply to,
reopen (within the window) and rate tickets — which ones is decided by the ticket scope:
their own and shared ones, or all of their customer's with ``view_customer_tickets``
(customer admins). Internal notes, private attachments and OLA clocks never reach
customer users, whatever their permissions (see ``querysets``).
"""

_READ = [
    "servicedesk.view_ticket",
    "servicedesk.view_ticketevent",
    "servicedesk.view_attachment",
    "servicedesk.view_slaclock",
    "servicedesk.view_rating",
]
_STAFF_READ = [
    *_READ,
    "servicedesk.view_escalation",
    "servicedesk.view_internal_notes",
    "servicedesk.view_outboundmail",
]
_WORK = [
    "servicedesk.add_ticket",
    "servicedesk.change_ticket",
    "servicedesk.work_ticket",
    "servicedesk.add_attachment",
]
_CUSTOMER = [
    *_READ,
    "servicedesk.add_ticket",
    "servicedesk.add_attachment",
    "servicedesk.add_rating",
]
_MAIL_ADMIN = [
    "servicedesk.view_mailbox",
    "servicedesk.add_mailbox",
    "servicedesk.change_mailbox",
    "servicedesk.view_inboundmail",
]

PERMISSIONS = {
    "service_manager": _STAFF_READ + _WORK + _MAIL_ADMIN,
    "engineer": _STAFF_READ + _WORK,
    "operator": _STAFF_READ + _WORK,
    "auditor": [*_STAFF_READ, "servicedesk.view_mailbox", "servicedesk.view_inboundmail"],
    "customer_admin": [*_CUSTOMER, "servicedesk.view_customer_tickets"],
    "customer_user": _CUSTOMER,
}
