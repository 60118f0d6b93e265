"""Forms of the alerting UI (the services validate again; forms only shape the input)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opsassure.alerting import matchers
from opsassure.alerting.models import (
    InhibitionRule,
    Integration,
    MaintenanceWindow,
    Recurrence,
    RoutingRule,
)
from opsassure.cmdb.models import ConfigurationItem
from opsassure.core.forms import in_supported_range
from opsassure.core.models import Customer, User
from opsassure.core.tenancy import scoped

DATETIME = forms.DateTimeInput(
    attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M"
)


def _style(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            continue  # a plain list of labelled boxes; Bootstrap's classes float them apart
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
        label=_("Rate limit (requests per minute)"),
        min_value=0,
        max_value=1_000_000,
        initial=1200,
        help_text=_("0 = no limit. Requests over the limit get 429 with Retry-After."),
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
    starts_at = forms.DateTimeField(
        label=_("Starts at"), widget=DATETIME, validators=[in_supported_range]
    )
    ends_at = forms.DateTimeField(
        label=_("Ends at"), widget=DATETIME, validators=[in_supported_range]
    )
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
    starts_at = forms.DateTimeField(
        label=_("Starts at"), widget=DATETIME, validators=[in_supported_range]
    )
    ends_at = forms.DateTimeField(
        label=_("Ends at"), widget=DATETIME, validators=[in_supported_range]
    )
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


SEVERITY_CHOICES = [
    ("critical", _("Critical")),
    ("high", _("High")),
    ("warning", _("Warning")),
    ("info", _("Info")),
]
PRIORITY_CHOICES = [(1, "P1"), (2, "P2"), (3, "P3"), (4, "P4")]


class LabelNamesField(forms.CharField):
    """Comma-separated label names (the ``equal`` labels of an inhibition rule)."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        names = [part.strip() for part in str(value or "").split(",") if part.strip()]
        for name in names:
            if not matchers.LABEL_NAME.fullmatch(name):
                raise forms.ValidationError(
                    _("%(name)s is not a label name (letters, digits and _).") % {"name": name}
                )
        return names

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value


class CustomerRuleForm(forms.ModelForm):  # type: ignore[type-arg]
    """A rule owned by a customer or provider-wide: the same customer rules as the API (a
    customer user writes only their own customer's rows; provider-wide rows need a service
    manager; the customer of an existing rule does not change), and every referenced row must
    be visible to the user and belong to the rule's customer (or be provider-wide)."""

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        for name, field in self.fields.items():
            if isinstance(field, forms.ModelChoiceField):
                related = field.queryset.model if field.queryset is not None else None
                if related is not None:
                    field.queryset = scoped(related, user)
            if name == "customer" and isinstance(field, forms.ModelChoiceField):
                field.queryset = scoped(Customer, user).order_by("name")
                field.required = user.customer_id is not None
                if self.instance.pk is not None:
                    field.disabled = True
        _style(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        customer: Customer | None = cleaned.get("customer")
        if self.instance.pk is None:
            if self.user.customer_id is not None:
                if customer is not None and customer.pk != self.user.customer_id:
                    self.add_error("customer", _("Not your customer."))
                customer = cleaned["customer"] = self.user.customer
            elif customer is None and not (
                self.user.is_superuser or self.user.has_perm("core.access_all_customers")
            ):
                self.add_error("customer", _("Only service managers create provider-wide entries."))
        else:
            customer = self.instance.customer
        for name in ("integration", "ci"):
            related = cleaned.get(name)
            owner = getattr(related, "customer_id", None)
            if related is not None and owner is not None and owner != getattr(customer, "pk", None):
                self.add_error(name, _("It belongs to another customer than the rule."))
        return cleaned


class RoutingRuleForm(CustomerRuleForm):
    matchers = MatchersField(label=_("Label matchers"), required=False)
    severities = forms.MultipleChoiceField(
        label=_("Severities"),
        choices=SEVERITY_CHOICES,
        required=False,
        help_text=_("Empty: any severity."),
        widget=forms.CheckboxSelectMultiple,
    )
    priority_critical = forms.TypedChoiceField(
        label=_("Priority for critical"), choices=PRIORITY_CHOICES, coerce=int, initial=1
    )
    priority_high = forms.TypedChoiceField(
        label=_("Priority for high"), choices=PRIORITY_CHOICES, coerce=int, initial=2
    )
    priority_warning = forms.TypedChoiceField(
        label=_("Priority for warning"), choices=PRIORITY_CHOICES, coerce=int, initial=3
    )
    priority_info = forms.TypedChoiceField(
        label=_("Priority for info"), choices=PRIORITY_CHOICES, coerce=int, initial=4
    )

    class Meta:
        model = RoutingRule
        fields = [
            "name",
            "customer",
            "integration",
            "position",
            "enabled",
            "matchers",
            "severities",
            "ci",
            "action",
            "auto_resolve",
            "team",
            "destination",
            "escalation_policy",
        ]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        mapping = self.instance.priority_map or {}
        for severity, _label in SEVERITY_CHOICES:
            if severity in mapping:
                self.fields[f"priority_{severity}"].initial = mapping[severity]

    def save(self, commit: bool = True) -> RoutingRule:
        rule: RoutingRule = super().save(commit=False)
        rule.priority_map = {
            severity: self.cleaned_data[f"priority_{severity}"] for severity, _l in SEVERITY_CHOICES
        }
        if commit:
            rule.save()
        return rule


class InhibitionRuleForm(CustomerRuleForm):
    source_matchers = MatchersField(
        label=_("Source matchers"),
        help_text=_("While an alert matching these fires…"),
    )
    target_matchers = MatchersField(
        label=_("Target matchers"),
        help_text=_("…alerts matching these are suppressed."),
    )
    equal = LabelNamesField(
        label=_("Equal labels"),
        required=False,
        help_text=_("Comma-separated: only when source and target have the same values."),
    )

    class Meta:
        model = InhibitionRule
        fields = ["name", "customer", "enabled", "source_matchers", "target_matchers", "equal"]

    def clean_target_matchers(self) -> list[str]:
        value: list[str] = self.cleaned_data.get("target_matchers") or []
        if not value:
            raise forms.ValidationError(_("At least one target matcher."))
        return value


__all__ = [
    "InhibitionRuleForm",
    "IntegrationForm",
    "MaintenanceWindow",
    "MaintenanceWindowForm",
    "RoutingRuleForm",
    "SilenceForm",
]
