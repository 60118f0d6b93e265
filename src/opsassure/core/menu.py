from django.utils.translation import gettext_lazy as _

from opsassure.core.models import AuditEvent, Customer, Team, User
from opsassure.core.ui.nav import MenuItem, MenuSection

MENU = MenuSection(
    app_label="core",
    label=_("Administration"),
    icon="settings",
    items=[
        MenuItem(
            _("Customers"), "core:customer-list", "building", "core.view_customer", model=Customer
        ),
        MenuItem(
            _("Teams"),
            "core:team-list",
            "users-group",
            "core.view_team",
            model=Team,
            staff_only=True,
        ),
        MenuItem(_("Users"), "core:user-list", "user", "core.view_user", model=User),
        MenuItem(
            _("Audit trail"),
            "core:audit-list",
            "shield-check",
            "core.view_auditevent",
            model=AuditEvent,
        ),
    ],
)
