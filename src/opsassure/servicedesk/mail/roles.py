"""Mail channel permissions per role (merged into the core roles after every migrate).

Mailboxes and inbound mail are provider administration: customer users get none of it.
"""

_VIEW = ["servicedesk.view_mailbox", "servicedesk.view_inboundmail"]
_ADMIN = [
    *_VIEW,
    "servicedesk.add_mailbox",
    "servicedesk.change_mailbox",
    # "Reprocess" of a failed or ignored mail.
    "servicedesk.change_inboundmail",
]

PERMISSIONS = {
    "service_manager": _ADMIN,
    "auditor": _VIEW,
}
