"""Forms of the alerting UI (the services validate again; forms only shape the input)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opsassure.alerting import matchers
from opsassure.alerting.models import Integration, MaintenanceWindow, Recurrence
from opsassure.cmdb.models import ConfigurationItem
from opsassure.core.models import Customer, User
from opsassure.core.tenancy import scoped

DATETIME = forms.DateTimeInput(
    attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M"
)


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


class MatchersField(forms.CharField):
    """One Alertmanager matcher per line."""

    widget = forms.Textarea(
        attrs={"rows": 3, "placeholder": 'alertname="HighCPU"\ninstance=~"web-.*"'}
    )

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        lines = [line.strip() for line in str(value or "").splitlines() if line.strip()]
        try:
            return matchers.validate(lines)
        except matchers.MatcherError as error:
            raise forms.ValidationError(str(error)) from error

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value


class ScopedForm(forms.Form):
    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        customer = self.fields.get("customer")
        if isinstance(customer, forms.ModelChoiceField):
            customer.queryset = scoped(Customer, user).order_by("name")
            customer.required = user.customer_id is not None
        cis = self.fields.get("cis")
        if isinstance(cis, forms.ModelMultipleChoiceField):
            cis.queryset = scoped(ConfigurationItem, user).order_by("name")
        _style(self)

    def clean_customer(self) -> Customer | None:
        customer: Customer | None = self.cleaned_data.get("customer")
        if (
            customer is None
            and self.user.customer_id is None
            and not (self.user.is_superuser or self.user.has_perm("core.access_all_customers"))
        ):
            raise forms.ValidationError(_("Only service managers create provider-wide entries."))
        if customer is None and self.user.customer_id is not None:
            customer = self.user.customer
        return customer


class IntegrationForm(ScopedForm):
    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Customer.objects.none(),
        required=False,
        help_text=_("Empty: provider-wide; the customer comes from the matched CI."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Integration._meta.get_field("kind").choices)  # type: ignore[arg-type]
    bearer_token = forms.CharField(
        label=_("Bearer token (optional)"),
        required=False,
        max_length=200,
        help_text=_("Senders must then send Authorization: Bearer <token>. Stored hashed."),
    )
    rate_limit_per_minute = forms.IntegerField(
        label=_("Rate limit (requests per minute)"), min_value=0, initial=1200
    )
    group_by = forms.CharField(
        label=_("Group by labels"),
        required=False,
        help_text=_(
            "Comma-separated label names; empty = the sender's group key or alertname + instance."
        ),
    )

    def clean_group_by(self) -> list[str]:
        return [
            part.strip()
            for part in self.cleaned_data.get("group_by", "").split(",")
            if part.strip()
        ]


class SilenceForm(ScopedForm):
    customer = forms.ModelChoiceField(
        label=_("Customer"), queryset=Customer.objects.none(), required=False
    )
    matchers = MatchersField(label=_("Label matchers"), required=False)
    cis = forms.ModelMultipleChoiceField(
        label=_("Configuration items"), queryset=ConfigurationItem.objects.none(), required=False
    )
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=DATETIME)
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=DATETIME)
    comment = forms.CharField(label=_("Comment"), max_length=500)


class MaintenanceWindowForm(ScopedForm):
    customer = forms.ModelChoiceField(
        label=_("Customer"), queryset=Customer.objects.none(), required=False
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    cis = forms.ModelMultipleChoiceField(
        label=_("Configuration items"), queryset=ConfigurationItem.objects.none(), required=False
    )
    include_dependents = forms.BooleanField(
        label=_("Also suppress dependent CIs"), required=False, initial=True
    )
    matchers = MatchersField(label=_("Label matchers"), required=False)
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=DATETIME)
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=DATETIME)
    recurrence = forms.ChoiceField(label=_("Recurrence"), choices=Recurrence.choices)
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays (weekly)"),
        required=False,
        coerce=int,
        choices=[
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
            (5, _("Saturday")),
            (6, _("Sunday")),
        ],
    )
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, initial="Asia/Shanghai")
    repeat_until = forms.DateField(
        label=_("Repeat until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


__all__ = ["IntegrationForm", "MaintenanceWindow", "MaintenanceWindowForm", "SilenceForm"]
