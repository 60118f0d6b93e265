"""Forms of the on-call pages (times are entered in the user's zone)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import inlineformset_factory
from django.utils.translation import gettext_lazy as _

from opsassure.core.models import User
from opsassure.notify.models import Channel
from opsassure.oncall.models import EscalationPolicy, EscalationPolicyStep, Schedule

DATETIME = forms.DateTimeInput(
    attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M"
)


def staff_users() -> Any:
    return User.objects.filter(customer__isnull=True, is_active=True).order_by("username")


class OverrideForm(forms.Form):
    user = forms.ModelChoiceField(label=_("On call instead"), queryset=User.objects.none())
    start = forms.DateTimeField(label=_("From"), widget=DATETIME)
    end = forms.DateTimeField(label=_("Until"), widget=DATETIME)
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff_users()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", _("The end must be after the start."))
        return data


class HandoverForm(forms.Form):
    schedule = forms.ModelChoiceField(label=_("Schedule"), queryset=Schedule.objects.none())
    open_issues = forms.CharField(
        label=_("Open issues"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, schedules: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["schedule"]
        field.queryset = schedules if schedules is not None else Schedule.objects.none()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("open_issues") or "").strip() and not (data.get("notes") or "").strip():
            self.add_error("notes", _("Write the open issues or a note."))
        return data


class PolicyForm(forms.ModelForm[EscalationPolicy]):
    class Meta:
        model = EscalationPolicy
        fields = ["name", "team", "description"]


USER_CHANNELS = [(c.value, c.label) for c in (Channel.EMAIL, Channel.SMS, Channel.VOICE)]


class StepForm(forms.ModelForm[EscalationPolicyStep]):
    channels = forms.MultipleChoiceField(
        label=_("Channels"),
        choices=USER_CHANNELS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = EscalationPolicyStep
        fields = ["target", "user", "schedule", "team", "channels", "wait_minutes", "repeat"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff_users()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        target = data.get("target")
        needed = {"user": "user", "schedule": "schedule", "team": "team"}.get(str(target or ""))
        if needed and not data.get(needed):
            self.add_error(needed, _("Choose whom this step notifies."))
        return data


StepFormSet = inlineformset_factory(
    EscalationPolicy, EscalationPolicyStep, form=StepForm, extra=1, can_delete=True
)
