from django.utils.translation import gettext_lazy as _

from opsassure.core.ui.nav import MenuItem, MenuSection
from opsassure.servicedesk.models import InboundMail, Mailbox

MENU = MenuSection(
    app_label="sdmail",
    label=_("Service desk e-mail"),
    icon="mail",
    items=[
        MenuItem(
            _("Mailboxes"),
            "sdmail:mailbox-list",
            "mailbox",
            "servicedesk.view_mailbox",
            model=Mailbox,
            staff_only=True,
        ),
        MenuItem(
            _("Inbound e-mail"),
            "sdmail:inbound-list",
            "mail-exclamation",
            "servicedesk.view_inboundmail",
            model=InboundMail,
            staff_only=True,
        ),
    ],
)
