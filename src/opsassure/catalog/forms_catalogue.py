"""Forms of the service catalogue and SLA policy pages.

The forms only parse what was typed; every rule lives in ``catalog.catalogue`` and
``catalog.sla_policies``, whose ValidationError is shown on the form (``add_service_errors``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opsassure.catalog import catalogue, sla_policies
from opsassure.catalog.forms import DeadlineForm
from opsassure.catalog.models import (
    Impact,
    Priority,
    Service,
    ServiceCalendar,
    SlaPolicy,
    Urgency,
)
from opsassure.catalog.presentation import format_duration, parse_duration
from opsassure.core.models import Customer, Team, User
from opsassure.core.tenancy import scoped

OLA_BLANK_ROWS = 3
METRIC_FIELDS = (
    ("response", gettext_lazy("Response")),
    ("arrival", gettext_lazy("On-site arrival")),
    ("resolution", gettext_lazy("Resolution")),
)


def _style(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


class ServiceErrorsMixin:
    """Shows a service function's ValidationError on the fields it names."""

    def add_service_errors(self, error: ValidationError) -> None:
        form: Any = self
        if not hasattr(error, "error_dict"):
            form.add_error(None, error)
            return
        for name, messages in error.message_dict.items():
            target = name if name in form.fields else None
            for message in messages:
                form.add_error(target, message)
        for name in form.errors:
            if name in form.fields:
                widget = form.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class ServiceForm(ServiceErrorsMixin, forms.ModelForm[Service]):
    class Meta:
        model = Service
        fields = [
            "customer",
            "parent",
            "code",
            "name",
            "description",
            "goal",
            "scope",
            "frequency",
            "service_hours",
            "delivery_mode",
            "deliverables",
            "owner_team",
            "sla_policy",
            "is_active",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "goal": forms.Textarea(attrs={"rows": 2}),
            "scope": forms.Textarea(attrs={"rows": 3}),
            "deliverables": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        customers = scoped(Customer, user).order_by("code")
        fields["customer"].queryset = customers
        if self.instance.pk is not None:
            fields["customer"].disabled = True
            customer_ids: Any = [self.instance.customer_id]
        else:
            customer_ids = customers.values("pk")
        services = scoped(Service, user).filter(customer_id__in=customer_ids)
        if self.instance.pk is not None:
            services = services.exclude(pk=self.instance.pk)
        fields["parent"].queryset = services.select_related("customer").order_by(
            "customer__code", "code"
        )
        fields["parent"].label_from_instance = lambda s: f"{s.customer.code} · {s.code} {s.name}"
        fields["service_hours"].queryset = (
            scoped(ServiceCalendar, user)
            .filter(Q(customer__isnull=True) | Q(customer_id__in=customer_ids))
            .order_by("code")
        )
        fields["sla_policy"].queryset = (
            scoped(SlaPolicy, user)
            .filter(customer_id__in=customer_ids)
            .select_related("customer")
            .order_by("customer__code", "code")
        )
        fields["sla_policy"].label_from_instance = lambda p: f"{p.customer.code} · {p.name}"
        fields["owner_team"].queryset = scoped(Team, user).order_by("code")
        _style(self)

    def _post_clean(self) -> None:
        # The rules are the service's (catalogue.check_service), checked when saving.
        pass

    def service_values(self) -> dict[str, Any]:
        values = {name: self.cleaned_data.get(name) for name in catalogue.SERVICE_FIELDS}
        for text in ("description", "goal", "scope", "frequency", "deliverables"):
            values[text] = values[text] or ""
        return values


class DurationField(forms.CharField):
    """Business time as typed by people: ``30``, ``30 min``, ``4 h``, ``1h30``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 8, "placeholder": "4 h"}))
        super().__init__(*args, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        return format_duration(value) if isinstance(value, int) else value

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        try:
            return parse_duration(text or "")
        except ValueError as error:
            raise ValidationError(
                _("Hours and minutes, e.g. 30 min, 4 h or 1 h 30 min."), code="invalid"
            ) from error


def matrix_field(impact: int, urgency: int) -> str:
    return f"matrix_{impact}_{urgency}"


def target_field(priority: int, metric: str) -> str:
    return f"target_{priority}_{metric}"


class PolicyForm(ServiceErrorsMixin, forms.ModelForm[SlaPolicy]):
    """The policy's fields, the 3×3 matrix, targets per priority and OLA rows in one form."""

    class Meta:
        model = SlaPolicy
        fields = [
            "customer",
            "code",
            "name",
            "description",
            "calendar",
            "is_default",
            "warn_percent_first",
            "warn_percent_second",
            "is_active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        policy = self.instance
        fields: Any = self.fields
        customers = scoped(Customer, user).order_by("code")
        fields["customer"].queryset = customers
        if policy.pk is not None:
            fields["customer"].disabled = True
            calendars = scoped(ServiceCalendar, user).filter(
                Q(customer__isnull=True) | Q(customer_id=policy.customer_id)
            )
        else:
            calendars = scoped(ServiceCalendar, user).filter(
                Q(customer__isnull=True) | Q(customer_id__in=customers.values("pk"))
            )
        fields["calendar"].queryset = calendars.order_by("code")
        stored_matrix = (
            {(c.impact, c.urgency): c.priority for c in policy.matrix.all()}
            if policy.pk is not None
            else dict(sla_policies.DEFAULT_MATRIX)
        )
        priorities = [(p.value, p.label) for p in Priority]
        for impact in Impact.values:
            for urgency in Urgency.values:
                fields[matrix_field(impact, urgency)] = forms.TypedChoiceField(
                    choices=priorities,
                    coerce=int,
                    initial=stored_matrix.get((impact, urgency)),
                    label=f"{impact}×{urgency}",
                )
        if policy.pk is not None:
            stored_targets = {
                t.priority: (t.response_minutes, t.arrival_minutes, t.resolution_minutes)
                for t in policy.targets.all()
            }
        else:
            stored_targets = dict(sla_policies.DEFAULT_TARGETS)
        for priority in Priority.values:
            values = stored_targets.get(priority, (None, None, None))
            for (metric, label), initial in zip(METRIC_FIELDS, values, strict=True):
                fields[target_field(priority, metric)] = DurationField(
                    label=f"P{priority} {label}", initial=initial
                )
        self.ola_rows: list[int] = []
        self.show_ola = user.customer_id is None
        if self.show_ola:
            stored_ola = list(policy.ola_targets.all()) if policy.pk is not None else []
            teams = scoped(Team, user).order_by("code")
            for index in range(len(stored_ola) + OLA_BLANK_ROWS):
                row = stored_ola[index] if index < len(stored_ola) else None
                fields[f"ola_{index}_team"] = forms.ModelChoiceField(
                    queryset=teams,
                    required=False,
                    initial=row.team_id if row else None,
                    label=_("Team"),
                )
                fields[f"ola_{index}_priority"] = forms.TypedChoiceField(
                    choices=priorities,
                    coerce=int,
                    required=False,
                    initial=row.priority if row else None,
                    label=_("Priority"),
                )
                fields[f"ola_{index}_response"] = DurationField(
                    label=_("Response"), initial=row.response_minutes if row else None
                )
                fields[f"ola_{index}_resolution"] = DurationField(
                    label=_("Resolution"), initial=row.resolution_minutes if row else None
                )
                self.ola_rows.append(index)
        _style(self)

    def _post_clean(self) -> None:
        pass  # the rules are sla_policies.check_policy's

    # --- what the template walks -----------------------------------------------------------

    def matrix_rows(self) -> list[tuple[str, list[Any]]]:
        return [
            (
                str(Impact(impact).label),
                [self[matrix_field(impact, urgency)] for urgency in Urgency.values],
            )
            for impact in Impact.values
        ]

    def urgency_labels(self) -> list[str]:
        return [str(Urgency(urgency).label) for urgency in Urgency.values]

    def target_rows(self) -> list[tuple[str, list[Any]]]:
        return [
            (f"P{p}", [self[target_field(p, metric)] for metric, _label in METRIC_FIELDS])
            for p in Priority.values
        ]

    def ola_bound_rows(self) -> list[list[Any]]:
        return [
            [self[f"ola_{i}_{part}"] for part in ("team", "priority", "response", "resolution")]
            for i in self.ola_rows
        ]

    # --- values for the service --------------------------------------------------------------

    def policy_values(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data.get(name)
            for name in sla_policies.POLICY_FIELDS
            if name in self.cleaned_data
        } | {"description": self.cleaned_data.get("description") or ""}

    def matrix(self) -> list[sla_policies.MatrixEntry]:
        return [
            sla_policies.MatrixEntry(i, u, self.cleaned_data[matrix_field(i, u)])
            for i in Impact.values
            for u in Urgency.values
        ]

    def targets(self) -> list[sla_policies.TargetEntry]:
        rows = []
        for priority in Priority.values:
            response = self.cleaned_data.get(target_field(priority, "response"))
            arrival = self.cleaned_data.get(target_field(priority, "arrival"))
            resolution = self.cleaned_data.get(target_field(priority, "resolution"))
            if response is None and arrival is None and resolution is None:
                continue  # the priority has no targets (reported if the matrix uses it)
            rows.append(
                sla_policies.TargetEntry(
                    priority=priority,
                    response_minutes=response if response is not None else 0,
                    arrival_minutes=arrival,
                    resolution_minutes=resolution if resolution is not None else 0,
                )
            )
        return rows

    def ola_targets(self) -> list[sla_policies.OlaEntry] | None:
        if not self.show_ola:
            return None  # customers never see nor change the provider's OLA rows
        rows = []
        for index in self.ola_rows:
            team = self.cleaned_data.get(f"ola_{index}_team")
            if team is None:
                continue
            rows.append(
                sla_policies.OlaEntry(
                    team=team,
                    priority=self.cleaned_data.get(f"ola_{index}_priority") or 0,
                    response_minutes=self.cleaned_data.get(f"ola_{index}_response"),
                    resolution_minutes=self.cleaned_data.get(f"ola_{index}_resolution"),
                )
            )
        return rows


class PreviewForm(DeadlineForm):
    """Start (wall time in the policy calendar's zone) + priority → due times."""

    minutes = None  # type: ignore[assignment]
    priority = forms.TypedChoiceField(
        label=gettext_lazy("Priority"),
        choices=Priority.choices,
        coerce=int,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
