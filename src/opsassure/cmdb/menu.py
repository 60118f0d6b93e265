from django.utils.translation import gettext_lazy as _

from opsassure.cmdb.models import CIType, ConfigurationItem, Discrepancy
from opsassure.core.ui.nav import MenuItem, MenuSection

MENU = MenuSection(
    app_label="cmdb",
    label=_("Configuration (CMDB)"),
    icon="topology-star-3",
    items=[
        MenuItem(
            _("Configuration items"),
            "cmdb:ci-list",
            "server-2",
            "cmdb.view_configurationitem",
            model=ConfigurationItem,
        ),
        MenuItem(_("CI types"), "cmdb:type-list", "category", "cmdb.view_citype", model=CIType),
        MenuItem(
            _("Expiring warranties"),
            "cmdb:ci-expiring",
            "calendar-due",
            "cmdb.view_configurationitem",
        ),
        MenuItem(_("Compliance"), "cmdb:compliance", "checklist", "cmdb.view_configauditscore"),
        MenuItem(
            _("Discovery discrepancies"),
            "cmdb:discrepancy-list",
            "radar-2",
            "cmdb.view_discrepancy",
            model=Discrepancy,
        ),
        MenuItem(_("Import"), "cmdb:ci-import", "file-import", "cmdb.add_configurationitem"),
    ],
)
