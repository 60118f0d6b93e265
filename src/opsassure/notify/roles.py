"""Notification permissions per role (merged into the core roles after every migrate).

Everybody manages their own notification rules (the scope is "own rows"). Destinations are
administration: service managers add and change them, engineers and operators read them and
the outbox. Customer users read the notifications addressed to their customer's users and
destinations (``NotificationQuerySet``).
"""

_OWN_RULES = [
    "notify.view_notificationrule",
    "notify.add_notificationrule",
    "notify.change_notificationrule",
    "notify.delete_notificationrule",
]
_READ = ["notify.view_destination", "notify.view_notification"]

PERMISSIONS = {
    "service_manager": [
        *_OWN_RULES,
        *_READ,
        "notify.add_destination",
        "notify.change_destination",
    ],
    "engineer": [*_OWN_RULES, *_READ],
    "operator": [*_OWN_RULES, *_READ],
    "auditor": [*_OWN_RULES, *_READ],
    "customer_admin": [*_OWN_RULES, "notify.view_notification"],
    "customer_user": [*_OWN_RULES, "notify.view_notification"],
}
