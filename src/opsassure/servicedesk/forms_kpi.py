"""The KPI filter (period, dimensions, grouping), shared by the dashboard and the API.

Every choice is scoped to the caller: a customer, service, team or engineer the caller may
not see is refused like one that does not exist. Team and engineer are provider-internal:
customer users cannot filter or group by them.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsassure.catalog.models import Priority, Service
from opsassure.core.models import Customer, Team, User
from opsassure.core.tenancy import is_provider_staff
from opsassure.servicedesk import kpi
from opsassure.servicedesk.models import TicketKind

MAX_PERIOD_DAYS = 731


def user_zone(user: Any) -> zoneinfo.ZoneInfo:
    """The user's own zone (the API runs in UTC, but periods are the user's days)."""
    name = getattr(user, "time_zone", "") or settings.TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


class KpiFilterForm(forms.Form):
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.none(), required=False, label=_("Customer")
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.none(), required=False, label=_("Service")
    )
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, label=_("Team"))
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label=_("Engineer")
    )
    priority = forms.TypedChoiceField(
        choices=[("", "—"), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
        label=_("Priority"),
    )
    kind = forms.ChoiceField(
        choices=[("", "—"), *TicketKind.choices], required=False, label=_("Type")
    )
    month = forms.DateField(
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        required=False,
        label=_("Month"),
        help_text=_("YYYY-MM; replaces from/to."),
    )
    group_by = forms.ChoiceField(required=False, label=_("Group by"))
    resolution_rate = forms.ChoiceField(
        choices=list(kpi.RESOLUTION_RATE_VARIANTS.items()),
        required=False,
        label=_("Resolution rate"),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.zone = user_zone(user)
        # "from" is a Python keyword: declared here.
        self.fields["from"] = forms.DateField(
            required=False,
            label=_("From"),
            help_text=_("First day, in your time zone."),
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        )
        self.fields["to"] = forms.DateField(
            required=False,
            label=_("To"),
            help_text=_("Last day (included)."),
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        )
        fields: Any = self.fields
        fields["customer"].queryset = Customer.objects.visible_to(user).order_by("name")
        fields["service"].queryset = Service.objects.visible_to(user).order_by("name")
        staff = is_provider_staff(user)
        groups = {
            key: label
            for key, label in kpi.GROUPS.items()
            if staff or key not in kpi.STAFF_ONLY_DIMENSIONS
        }
        fields["group_by"].choices = [("", "—"), *groups.items()]
        if staff:
            fields["team"].queryset = Team.objects.visible_to(user).order_by("name")
            fields["assignee"].queryset = User.objects.filter(
                customer__isnull=True, is_active=True
            ).order_by("username")
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
        self.staff = staff

    def ui_fields(self) -> list[forms.BoundField]:
        """The fields the dashboard shows (teams and engineers to provider staff only)."""
        names = ["customer", "service", "team", "assignee", "priority", "kind"]
        names += ["month", "from", "to"]
        return [self[name] for name in names if self.staff or name not in ("team", "assignee")]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        month, first, last = data.get("month"), data.get("from"), data.get("to")
        if month is not None:
            start, end = kpi.month_period(month, self.zone)
        else:
            today = timezone.now().astimezone(self.zone).date()
            if first is None and last is None:
                start, end = kpi.month_period(today, self.zone)
            else:
                last = last or today
                first = first or last.replace(day=1)
                if last < first:
                    raise forms.ValidationError({"to": _("The last day is before the first.")})
                if (last - first).days >= MAX_PERIOD_DAYS:
                    raise forms.ValidationError({"to": _("The period is longer than two years.")})
                start = dt.datetime.combine(first, dt.time(), tzinfo=self.zone)
                end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=self.zone)
        data["start"], data["end"] = start, end
        return data

    def kpi_filter(self) -> kpi.KpiFilter:
        """The validated filter; call after ``is_valid()``."""
        data = self.cleaned_data

        def pk(name: str) -> int | None:
            value = data.get(name)
            return None if value is None else int(value.pk)

        return kpi.KpiFilter(
            start=data["start"],
            end=data["end"],
            zone=self.zone,
            customer_id=pk("customer"),
            service_id=pk("service"),
            team_id=pk("team"),
            assignee_id=pk("assignee"),
            priority=data.get("priority"),
            kind=data.get("kind") or None,
            group_by=data.get("group_by") or None,
            resolution_rate=data.get("resolution_rate") or kpi.default_resolution_rate(),
        )
