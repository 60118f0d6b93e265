from django.utils.translation import gettext_lazy as _

from opsassure.core.ui.nav import MenuItem, MenuSection
from opsassure.notify.models import Destination, Notification

MENU = MenuSection(
    app_label="notify",
    label=_("Notifications"),
    icon="bell",
    items=[
        MenuItem(
            _("Destinations"),
            "notify:destination-list",
            "robot",
            "notify.view_destination",
            model=Destination,
            staff_only=True,
        ),
        MenuItem(
            _("Outbox"),
            "notify:notification-list",
            "send",
            "notify.view_notification",
            model=Notification,
        ),
        MenuItem(
            _("My notification rules"),
            "notify:rules",
            "bell-cog",
            "notify.view_notificationrule",
        ),
    ],
)
