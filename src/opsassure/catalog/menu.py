from django.utils.translation import gettext_lazy as _

from opsassure.catalog.models import ServiceCalendar
from opsassure.core.ui.nav import MenuItem, MenuSection

MENU = MenuSection(
    app_label="catalog",
    label=_("Service catalog & SLA"),
    icon="calendar-time",
    items=[
        MenuItem(
            _("Calendars"),
            "catalog:calendar-list",
            "calendar",
            "catalog.view_servicecalendar",
            model=ServiceCalendar,
        ),
    ],
)
