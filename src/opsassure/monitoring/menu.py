"""The monitoring section of the sidebar.

The threshold-rule and agent pages belong to the metrics part (``urls_metrics``); they are
listed by URL name and appear once that part's views are installed.
"""

from importlib.util import find_spec

from django.utils.translation import gettext_lazy as _

from opsassure.core.ui.nav import MenuItem, MenuSection
from opsassure.monitoring.models import Agent, Monitor, Probe, ThresholdRule

_items = [
    MenuItem(
        _("Monitoring overview"),
        "monitoring:overview",
        "activity-heartbeat",
        "monitoring.view_monitor",
    ),
    MenuItem(
        _("Checks"), "monitoring:check-list", "list-check", "monitoring.view_monitor", model=Monitor
    ),
    MenuItem(
        _("Probes"),
        "monitoring:probe-list",
        "radar",
        "monitoring.view_probe",
        model=Probe,
        staff_only=True,
    ),
]
if find_spec("opsassure.monitoring.views_metrics") is not None:
    _items += [
        MenuItem(
            _("Threshold rules"),
            "monitoring:rules",
            "adjustments-alt",
            "monitoring.view_thresholdrule",
            model=ThresholdRule,
        ),
        MenuItem(
            _("Agents"),
            "monitoring:agents",
            "device-desktop-analytics",
            "monitoring.view_agent",
            model=Agent,
        ),
    ]

MENU = MenuSection(
    app_label="monitoring", label=_("Monitoring"), icon="activity-heartbeat", items=_items
)
