from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from opsassure.core.models import User

FIRST_YEAR, LAST_YEAR = 1970, 2999


def in_supported_range(value: dt.date | dt.datetime | None) -> None:
    """Dates from 1970 to 2999 only: year 1 or 9999 is a typo, and once shifted to UTC or by a
    week it no longer fits Python's dates (PostgreSQL would even store it as a date BC)."""
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationError(
            _("Give a date between %(first)s and %(last)s."),
            code="out_of_range",
            params={"first": FIRST_YEAR, "last": LAST_YEAR},
        )


COMMON_ZONES = [
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "UTC",
]


class ProfileForm(forms.ModelForm[User]):
    time_zone = forms.ChoiceField(label=_("time zone"), choices=[])

    class Meta:
        model = User
        fields = [
            "display_name",
            "email",
            "language",
            "time_zone",
            "phone",
            "dingtalk_id",
            "wecom_id",
            "feishu_id",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        others = sorted(zoneinfo.available_timezones() - set(COMMON_ZONES))
        zone_field = self.fields["time_zone"]
        assert isinstance(zone_field, forms.ChoiceField)
        zone_field.choices = [(z, z) for z in COMMON_ZONES + others]
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    expires_in_days = forms.IntegerField(
        label=_("Expires in (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("Leave empty for a token that does not expire."),
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )
