from django.utils.translation import gettext_lazy as _

from opsassure.catalog.models import Service, ServiceCalendar, SlaPolicy
from opsassure.core.ui.nav import MenuItem, MenuSection

MENU = MenuSection(
    app_label="catalog",
    label=_("Service catalog & SLA"),
    icon="calendar-time",
    items=[
        MenuItem(
            _("Services"),
            "catalog:service-list",
            "sitemap",
            "catalog.view_service",
            model=Service,
        ),
        MenuItem(
            _("SLA policies"),
            "catalog:policy-list",
            "clock-check",
            "catalog.view_slapolicy",
            model=SlaPolicy,
        ),
        MenuItem(
            _("Calendars"),
            "catalog:calendar-list",
            "calendar",
            "catalog.view_servicecalendar",
            model=ServiceCalendar,
        ),
    ],
)
