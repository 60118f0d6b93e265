from django.utils.translation import gettext_lazy as _

from opsassure.core.ui.nav import MenuItem, MenuSection
from opsassure.oncall.models import EscalationPolicy, EscalationRun, Schedule

MENU = MenuSection(
    app_label="oncall",
    label=_("On-call"),
    icon="phone-call",
    items=[
        MenuItem(
            _("Schedules"),
            "oncall:schedule-list",
            "calendar-user",
            "oncall.view_schedule",
            staff_only=True,
            model=Schedule,
        ),
        MenuItem(
            _("Handover log"),
            "oncall:handover-log",
            "notes",
            "oncall.view_handover",
            staff_only=True,
        ),
        MenuItem(
            _("Escalation policies"),
            "oncall:policy-list",
            "stairs-up",
            "oncall.view_escalationpolicy",
            staff_only=True,
            model=EscalationPolicy,
        ),
        MenuItem(
            _("Escalations"),
            "oncall:run-list",
            "urgent",
            "oncall.view_escalationrun",
            staff_only=True,
            model=EscalationRun,
        ),
    ],
)
