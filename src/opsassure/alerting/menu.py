from django.utils.translation import gettext_lazy as _

from opsassure.alerting.models import (
    Alert,
    AlertGroup,
    InhibitionRule,
    Integration,
    MaintenanceWindow,
    RoutingRule,
    Silence,
)
from opsassure.core.ui.nav import MenuItem, MenuSection

MENU = MenuSection(
    app_label="alerting",
    label=_("Alerting"),
    icon="alarm-smoke",
    items=[
        MenuItem(
            _("Live alerts"),
            "alerting:group-list",
            "bell-ringing",
            "alerting.view_alertgroup",
            model=AlertGroup,
        ),
        MenuItem(
            _("All alerts"), "alerting:alert-list", "list", "alerting.view_alert", model=Alert
        ),
        MenuItem(
            _("Silences"),
            "alerting:silence-list",
            "bell-off",
            "alerting.view_silence",
            model=Silence,
        ),
        MenuItem(
            _("Maintenance windows"),
            "alerting:maintenance-list",
            "tool",
            "alerting.view_maintenancewindow",
            model=MaintenanceWindow,
        ),
        MenuItem(
            _("Calendar"), "alerting:calendar", "calendar-week", "alerting.view_maintenancewindow"
        ),
        MenuItem(
            _("Integrations"),
            "alerting:integration-list",
            "plug-connected",
            "alerting.view_integration",
            model=Integration,
            staff_only=True,
        ),
        MenuItem(
            _("Routing rules"),
            "alerting:routingrule-list",
            "route",
            "alerting.view_routingrule",
            model=RoutingRule,
            staff_only=True,
        ),
        MenuItem(
            _("Inhibition rules"),
            "alerting:inhibitionrule-list",
            "filter-off",
            "alerting.view_inhibitionrule",
            model=InhibitionRule,
            staff_only=True,
        ),
    ],
)
