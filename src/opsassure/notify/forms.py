from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opsassure.core.models import Customer, User
from opsassure.core.tenancy import scoped, visible_customer_ids
from opsassure.notify import validation
from opsassure.notify.models import USER_CHANNELS, Destination, NotificationRule, Severity


def _style(form: forms.BaseForm) -> None:
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            continue
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs["class"] = "form-check-input"
        elif isinstance(widget, forms.Select):
            widget.attrs["class"] = "form-select"
        else:
            widget.attrs["class"] = "form-control"
        widget.attrs.setdefault("data-field", name)


class DestinationForm(forms.ModelForm[Destination]):
    """Create or edit a destination. URL and secret are never shown back: empty keeps them."""

    url = forms.CharField(
        label=_("URL or address"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    secret = forms.CharField(
        label=_("Secret"),
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_secret = forms.BooleanField(label=_("Remove the secret"), required=False)
    settings = forms.CharField(
        label=_("Settings (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=_(
            'e.g. {"at_mobiles": ["13800000000"]}; for SMS/voice a "gateway" template and '
            '"phones" (see the documentation).'
        ),
    )

    class Meta:
        model = Destination
        fields = [
            "name",
            "customer",
            "kind",
            "url",
            "secret",
            "settings",
            "rate_limit_per_minute",
            "enabled",
        ]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        customer_field: Any = self.fields["customer"]
        customer_field.queryset = scoped(Customer, user).order_by("name")
        if visible_customer_ids(user) is not None:
            customer_field.required = True
            customer_field.empty_label = None
        editing = self.instance.pk is not None
        if editing:
            self.fields["kind"].disabled = True
            self.initial["url"] = ""  # the URL carries the robot's token: never echoed
            self.initial["secret"] = ""
            self.fields["url"].help_text = _("Now: %(url)s. Leave empty to keep it.") % {
                "url": self.instance.masked_url
            }
            self.fields["secret"].help_text = (
                _("Now: %(secret)s. Leave empty to keep it.")
                % {"secret": self.instance.masked_secret}
                if self.instance.secret
                else _("No secret set.")
            )
            self.initial["settings"] = json.dumps(
                self.instance.settings, ensure_ascii=False, indent=2
            )
        else:
            del self.fields["clear_secret"]
            self.initial["settings"] = "{}"
        _style(self)

    def clean_settings(self) -> dict[str, Any]:
        text = (self.cleaned_data.get("settings") or "").strip() or "{}"
        try:
            value = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(_("Not valid JSON: %(error)s") % {"error": error}) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Settings must be a JSON object."))
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind") or self.instance.kind
        url = cleaned.get("url") or (self.instance.url if self.instance.pk else "")
        if not url and kind not in ("sms", "voice"):
            self.add_error("url", _("This field is required."))
            return cleaned
        for field, messages in validation.destination_problems(
            kind, url, cleaned.get("settings", {})
        ).items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        return cleaned

    def save(self, commit: bool = True) -> Destination:
        destination = super().save(commit=False)
        previous = Destination.objects.filter(pk=destination.pk).values("url", "secret").first()
        if previous is not None:
            destination.url = self.cleaned_data.get("url") or previous["url"]
            if self.cleaned_data.get("clear_secret"):
                destination.secret = ""
            else:
                destination.secret = self.cleaned_data.get("secret") or previous["secret"]
        if commit:
            destination.save()
        return destination


class NotificationRuleForm(forms.ModelForm[NotificationRule]):
    severities = forms.MultipleChoiceField(
        label=_("Severities"),
        choices=Severity.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every severity."),
    )
    channels = forms.MultipleChoiceField(
        label=_("Channels"),
        choices=[(c.value, c.label) for c in USER_CHANNELS],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = NotificationRule
        fields = ["severities", "channels", "quiet_start", "quiet_end", "order", "enabled"]
        widgets = {
            "quiet_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["quiet_end"].help_text = _(
            "Non-critical messages in the quiet hours wait until they end; critical ones are "
            "sent at once."
        )
        _style(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("quiet_start"), cleaned.get("quiet_end")
        if (start is None) != (end is None):
            self.add_error(
                "quiet_end", _("Give both the start and the end of the quiet hours, or none.")
            )
        elif start is not None and start == end:
            self.add_error("quiet_end", _("Quiet hours must not start and end at the same time."))
        return cleaned
