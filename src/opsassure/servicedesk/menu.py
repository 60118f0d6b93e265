from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from opsassure.core.ui.nav import MenuItem, MenuSection
from opsassure.servicedesk.models import Ticket


@dataclass(frozen=True)
class PortalMenuItem(MenuItem):
    """Shown to customer users only (provider staff work from the queues)."""

    def visible_for(self, user: Any) -> bool:
        return getattr(user, "customer_id", None) is not None and super().visible_for(user)


VIEW = "servicedesk.view_ticket"

MENU = MenuSection(
    app_label="servicedesk",
    label=_("Service desk"),
    icon="headset",
    items=[
        MenuItem(_("My tickets"), "servicedesk:queue-mine", "user", VIEW, staff_only=True),
        MenuItem(_("My team"), "servicedesk:queue-team", "users-group", VIEW, staff_only=True),
        MenuItem(
            _("Unassigned"), "servicedesk:queue-unassigned", "user-question", VIEW, staff_only=True
        ),
        MenuItem(
            _("Breaching soon"), "servicedesk:queue-breaching", "alarm", VIEW, staff_only=True
        ),
        # The one list the generic tenant isolation test walks (customer users get the portal).
        MenuItem(
            _("All open tickets"),
            "servicedesk:queue-open",
            "inbox",
            VIEW,
            staff_only=True,
            model=Ticket,
        ),
        MenuItem(
            _("Phone call"),
            "servicedesk:ticket-phone",
            "phone-plus",
            "servicedesk.add_ticket",
            staff_only=True,
        ),
        MenuItem(_("KPIs"), "servicedesk:kpi-dashboard", "chart-bar", VIEW, staff_only=True),
        PortalMenuItem(_("My tickets"), "servicedesk:portal", "ticket", VIEW),
        PortalMenuItem(_("New ticket"), "servicedesk:portal-new", "plus", "servicedesk.add_ticket"),
    ],
)
