"""Forms of the metrics pages (threshold rules, agent tokens). ``rules.validate_rule`` is
the authority: its reasons are shown on the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opsassure.cmdb.models import CIType, ConfigurationItem, Tag
from opsassure.core.models import Customer, User
from opsassure.core.tenancy import scoped
from opsassure.monitoring import rules
from opsassure.monitoring.models import Operator, Severity, ThresholdRule


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


def may_write_everywhere(user: User) -> bool:
    return bool(user.is_superuser or user.has_perm("core.access_all_customers"))


class LabelsField(forms.CharField):
    """``key=value``, one per line."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "team=storage"})

    def to_python(self, value: Any) -> dict[str, str]:  # type: ignore[override]
        labels: dict[str, str] = {}
        for line in str(value or "").splitlines():
            if not line.strip():
                continue
            key, sep, text = line.partition("=")
            if not sep:
                raise forms.ValidationError(_("One key=value per line."))
            labels[key.strip()] = text.strip()
        return labels

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return "\n".join(f"{key}={text}" for key, text in value.items())
        return value


class RuleForm(forms.Form):
    customer = forms.ModelChoiceField(
        Customer.objects.none(),
        required=False,
        label=_("Customer"),
        empty_label=_("Every customer"),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    metric = forms.CharField(
        label=_("Metric"),
        max_length=64,
        widget=forms.TextInput(attrs={"list": "known-metrics"}),
        help_text=_("e.g. cpu_percent, disk_used_percent, check_response_ms"),
    )
    dimension = forms.CharField(
        label=_("Dimension"),
        max_length=200,
        required=False,
        help_text=_("Mount point or interface; empty: every one."),
    )
    operator = forms.ChoiceField(label=_("Operator"), choices=Operator.choices)
    threshold = forms.FloatField(label=_("Threshold"))
    for_seconds = forms.IntegerField(
        label=_("For (seconds)"), initial=300, help_text=_("How long the condition must hold.")
    )
    recovery_threshold = forms.FloatField(
        label=_("Recovery threshold"),
        required=False,
        help_text=_("Clears only past this value (hysteresis); empty: the threshold."),
    )
    severity = forms.ChoiceField(
        label=_("Severity"), choices=Severity.choices, initial=Severity.WARNING
    )
    labels = LabelsField(label=_("Labels"), required=False)
    ci = forms.ModelChoiceField(
        ConfigurationItem.objects.none(), required=False, label=_("Only this CI")
    )
    ci_type = forms.ModelChoiceField(
        CIType.objects.none(), required=False, label=_("Only CIs of this type")
    )
    tag = forms.ModelChoiceField(Tag.objects.none(), required=False, label=_("Only CIs tagged"))

    def __init__(self, *args: Any, user: User, instance: ThresholdRule | None = None, **kw: Any):
        if instance is not None:
            kw.setdefault("initial", {name: getattr(instance, name) for name in rules.RULE_FIELDS})
        super().__init__(*args, **kw)
        self.user = user
        self.instance = instance
        customer = self.fields["customer"]
        assert isinstance(customer, forms.ModelChoiceField)
        customer.queryset = scoped(Customer, user).order_by("name")
        customer.required = not may_write_everywhere(user)
        if instance is not None:
            customer.disabled = True  # a rule's customer never changes
        ci = self.fields["ci"]
        assert isinstance(ci, forms.ModelChoiceField)
        ci.queryset = scoped(ConfigurationItem, user).order_by("name")
        for name, model in (("ci_type", CIType), ("tag", Tag)):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = model.objects.order_by("name")
        _style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        if data.get("customer") is None and not may_write_everywhere(self.user):
            self.add_error("customer", _("Only service managers create rules for every customer."))
            return data
        try:
            rules.validate_rule(
                name=data.get("name"),
                metric=data.get("metric"),
                operator=data.get("operator"),
                threshold=data.get("threshold"),
                for_seconds=data.get("for_seconds"),
                recovery_threshold=data.get("recovery_threshold"),
                severity=data.get("severity"),
                labels=data.get("labels") or {},
                dimension=data.get("dimension") or "",
                customer_id=data["customer"].pk if data.get("customer") else None,
                ci=data.get("ci"),
            )
        except rules.RuleError as error:
            for name, problems in error.fields.items():
                self.add_error(name if name in self.fields else None, problems)
        return data

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["labels"] = data.get("labels") or {}
        data["dimension"] = data.get("dimension") or ""
        if self.instance is not None:
            data.pop("customer", None)
        return {key: data[key] for key in rules.RULE_FIELDS if key in data}


class AgentTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    customer = forms.ModelChoiceField(Customer.objects.none(), label=_("Customer"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        customer = self.fields["customer"]
        assert isinstance(customer, forms.ModelChoiceField)
        customer.queryset = scoped(Customer, user).order_by("name")
        if user.customer_id is not None:
            customer.initial = user.customer_id
        _style(self)
