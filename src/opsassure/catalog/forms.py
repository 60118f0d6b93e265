from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from opsassure.catalog.ical import MAX_ICAL_BYTES

MAX_CALCULATOR_MINUTES = 366 * 24 * 60


class DeadlineForm(forms.Form):
    """Start (wall time in the calendar's zone) + business minutes → deadline."""

    start = forms.CharField(
        label=_("Start"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control"}),
    )
    minutes = forms.IntegerField(
        label=_("Business minutes"),
        min_value=0,
        max_value=MAX_CALCULATOR_MINUTES,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )

    def __init__(self, *args: Any, zone: zoneinfo.ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.fields["start"].help_text = _("Local time in %(zone)s") % {"zone": zone.key}

    def clean_start(self) -> dt.datetime:
        text = self.cleaned_data["start"].strip()
        for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
            try:
                naive = dt.datetime.strptime(text, pattern)  # noqa: DTZ007 - zone added below
            except ValueError:
                continue
            if not 1971 <= naive.year <= 2199:
                break
            return naive.replace(tzinfo=self.zone)
        raise forms.ValidationError(_("A date and time, e.g. 2026-10-01 08:00."))


class IcalImportForm(forms.Form):
    file = forms.FileField(
        label=_("iCalendar file (.ics)"),
        help_text=_("At most 1 MB. Events become holidays; 班 / 补班 / workday mark 调休 days."),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".ics"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_ICAL_BYTES:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        return upload
