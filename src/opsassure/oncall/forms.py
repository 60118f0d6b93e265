"""Forms of the on-call pages (times are entered in the user's zone)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import inlineformset_factory
from django.utils.translation import gettext_lazy as _

from opsassure.core.forms import in_supported_range
from opsassure.core.models import User
from opsassure.notify.models import Channel
from opsassure.oncall.models import (
    EscalationPolicy,
    EscalationPolicyStep,
    Layer,
    LayerParticipant,
    Schedule,
)

DATETIME = forms.DateTimeInput(
    attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M"
)


def staff_users() -> Any:
    return User.objects.filter(customer__isnull=True, is_active=True).order_by("username")


class OverrideForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("On call instead"),
        queryset=User.objects.none(),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    start = forms.DateTimeField(label=_("From"), widget=DATETIME, validators=[in_supported_range])
    end = forms.DateTimeField(label=_("Until"), widget=DATETIME, validators=[in_supported_range])
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )

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


class ScheduleForm(forms.ModelForm[Schedule]):
    class Meta:
        model = Schedule
        fields = ["team", "name", "time_zone", "calendar", "description", "is_active"]


class LayerForm(forms.ModelForm[Layer]):
    people = forms.CharField(
        label=_("Participants, in order"),
        help_text=_("User names separated by commas; a name may appear more than once."),
    )

    class Meta:
        model = Layer
        fields = [
            "name",
            "order",
            "kind",
            "length",
            "length_unit",
            "start_date",
            "handoff_time",
            "end_date",
        ]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
            "handoff_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["people"] = ", ".join(u.username for u in self.instance.participants)

    def clean_people(self) -> list[User]:
        names = [n.strip() for n in self.cleaned_data["people"].replace("，", ",").split(",")]
        names = [n for n in names if n]
        found = {u.username: u for u in staff_users().filter(username__in=names)}
        unknown = sorted({n for n in names if n not in found})
        if unknown:
            raise forms.ValidationError(
                _("Not active provider staff: %(names)s") % {"names": ", ".join(unknown)}
            )
        return [found[n] for n in names]


LayerFormSet = inlineformset_factory(Schedule, Layer, form=LayerForm, extra=1, can_delete=True)


def save_layers(formset: Any, schedule: Schedule) -> None:
    """Save a valid ``LayerFormSet`` with each layer's participants in the given order."""
    formset.instance = schedule
    formset.save(commit=False)
    for gone in formset.deleted_objects:
        gone.delete()
    for form in formset.forms:
        if form in formset.deleted_forms or not (form.instance.pk or form.has_changed()):
            continue
        layer = form.save(commit=False)
        layer.schedule = schedule
        layer.save()
        LayerParticipant.objects.filter(layer=layer).delete()
        LayerParticipant.objects.bulk_create(
            LayerParticipant(layer=layer, user=user, position=position)
            for position, user in enumerate(form.cleaned_data["people"])
        )
