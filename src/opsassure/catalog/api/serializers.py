from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from opsassure.catalog.business_time import format_minute, parse_minute
from opsassure.catalog.models import CalendarDay, ServiceCalendar, WorkingInterval
from opsassure.catalog.queries import is_covered
from opsassure.core.api.base import ScopedModelSerializer


@extend_schema_field(
    {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$", "example": "08:30"}
)
class TimeOfDayField(serializers.Field[int, str, str, Any]):
    """``"HH:MM"`` in the API, minutes of the day in the database; ``"24:00"`` allowed."""

    default_error_messages = {"invalid": _("A time of day as HH:MM (00:00–24:00).")}

    def to_representation(self, value: int) -> str:
        return format_minute(value)

    def to_internal_value(self, data: Any) -> int:
        try:
            return parse_minute(str(data))
        except ValueError:
            self.fail("invalid")
            raise  # pragma: no cover  (fail() raises)


class CoverageSerializer(serializers.Serializer[Any]):
    year = serializers.IntegerField()
    covered = serializers.BooleanField()


class ServiceCalendarSerializer(ScopedModelSerializer):
    coverage = serializers.SerializerMethodField(
        help_text="Whether holidays and adjusted working days are known, for last, this and "
        "next year. A year without them falls back to plain weekdays."
    )
    coverage_warning = serializers.SerializerMethodField()

    class Meta:
        model = ServiceCalendar
        fields = [
            "id",
            "customer",
            "code",
            "name",
            "time_zone",
            "description",
            "holidays_included",
            "is_builtin",
            "revision",
            "coverage",
            "coverage_warning",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["is_builtin", "revision", "created_at", "updated_at"]
        validators: list[Any] = []  # code uniqueness per customer: services._check_unique_code

    def _years(self) -> list[int]:
        years: list[int] = self.context.get("coverage_years", [])
        return years

    @extend_schema_field(CoverageSerializer(many=True))
    def get_coverage(self, obj: ServiceCalendar) -> list[dict[str, Any]]:
        return [{"year": year, "covered": is_covered(obj, year)} for year in self._years()]

    def get_coverage_warning(self, obj: ServiceCalendar) -> str:
        missing = [str(year) for year in self._years() if not is_covered(obj, year)]
        if not missing:
            return ""
        return str(
            _(
                "No public holiday data for %(years)s: plain weekdays are used. "
                "Enter or import the days."
            )
            % {"years": ", ".join(missing)}
        )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            # A calendar never moves to another customer.
            fields["customer"].read_only = True
        return fields


class WorkingIntervalSerializer(ScopedModelSerializer):
    start_time = TimeOfDayField(source="start_minute")
    end_time = TimeOfDayField(source="end_minute")
    weekday_display = serializers.CharField(source="get_weekday_display", read_only=True)

    class Meta:
        model = WorkingInterval
        fields = ["id", "calendar", "weekday", "weekday_display", "start_time", "end_time"]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["calendar"].read_only = True
        return fields


class CalendarDaySerializer(ScopedModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = CalendarDay
        fields = ["id", "calendar", "date", "kind", "kind_display", "name", "source"]
        read_only_fields = ["source"]
        validators: list[Any] = []  # one entry per date: set_day replaces, update_day checks

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["calendar"].read_only = True
        return fields


class DeadlineSerializer(serializers.Serializer[Any]):
    calendar = serializers.IntegerField()
    start = serializers.DateTimeField()
    minutes = serializers.IntegerField()
    deadline = serializers.DateTimeField()
    deadline_local = serializers.CharField(help_text="The deadline in the calendar's zone.")
    time_zone = serializers.CharField()
    warnings = serializers.ListField(child=serializers.CharField())


class BusinessTimeSerializer(serializers.Serializer[Any]):
    calendar = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    seconds = serializers.IntegerField(help_text="Business seconds between start and end.")
    minutes = serializers.IntegerField(help_text="Whole business minutes.")
    warnings = serializers.ListField(child=serializers.CharField())


class IcalUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="An .ics file of at most 1 MB.")


class SeedHolidaysSerializer(serializers.Serializer[Any]):
    years = serializers.ListField(
        child=serializers.IntegerField(min_value=2001, max_value=2100),
        min_length=1,
        max_length=10,
    )
