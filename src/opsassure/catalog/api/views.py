from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from opsassure.catalog import builtin, ical, queries, services
from opsassure.catalog.api import serializers as s
from opsassure.catalog.business_time import NoBusinessTimeError
from opsassure.catalog.filtersets import CalendarDayFilterSet, CalendarFilterSet, IntervalFilterSet
from opsassure.catalog.models import CalendarDay, ServiceCalendar, WorkingInterval
from opsassure.core.api.base import ScopedModelViewSet
from opsassure.core.api.errors import Conflict
from opsassure.core.auth import request_user

MAX_MINUTES = 366 * 24 * 60  # a year of wall time: far beyond any SLA target
_EARLIEST, _LATEST = 1971, 2199
# "+08:00" arrives as " 08:00" when a client forgets to URL-encode the "+".
_UNENCODED_PLUS = re.compile(r"^(?P<stamp>\S+T[0-9:.]+) (?P<offset>\d{2}(:?\d{2})?)$")


class RequestEntityTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The file is too large."


def parse_instant(raw: str | None, field: str) -> dt.datetime:
    """An aware datetime from an ISO 8601 query parameter, or a 400 naming ``field``."""
    text = (raw or "").strip()
    match = _UNENCODED_PLUS.match(text)
    if match:
        text = f"{match['stamp']}+{match['offset']}"
    try:
        value = parse_datetime(text) if text else None
    except ValueError:
        value = None
    if value is None:
        raise serializers.ValidationError(
            {field: [_("An ISO 8601 date and time, e.g. 2026-10-01T08:00:00+08:00.")]}
        )
    if value.tzinfo is None:
        raise serializers.ValidationError(
            {field: [_("Give a UTC offset (e.g. +08:00 or Z): a time without one is ambiguous.")]}
        )
    if not _EARLIEST <= value.year <= _LATEST:
        raise serializers.ValidationError(
            {field: [_("Between %(a)d and %(b)d.") % {"a": _EARLIEST, "b": _LATEST}]}
        )
    return value


def parse_minutes(raw: str | None) -> int:
    try:
        minutes = int((raw or "").strip())
    except ValueError:
        minutes = -1
    if not 0 <= minutes <= MAX_MINUTES:
        raise serializers.ValidationError(
            {"minutes": [_("A whole number from 0 to %(max)d.") % {"max": MAX_MINUTES}]}
        )
    return minutes


def coverage_warnings(calendar: ServiceCalendar, *instants: dt.datetime) -> list[str]:
    engine = queries.business_calendar(calendar)
    years = sorted({instant.astimezone(engine.zone).year for instant in instants})
    return [
        _("No public holiday data for %(year)d: plain weekdays were used.") % {"year": year}
        for year in years
        if not engine.coverage(year)
    ]


class ServiceCalendarViewSet(ScopedModelViewSet):
    """Service calendars: time zone, weekly working intervals, holidays and 调休 days.

    Provider-wide calendars (no customer) are maintained by provider staff and readable by
    everyone; built-in calendars cannot be deleted.
    """

    queryset = ServiceCalendar.objects.order_by("code", "id")
    serializer_class = s.ServiceCalendarSerializer
    filterset_class = CalendarFilterSet
    ordering_fields = ["code", "name", "created_at"]
    search_fields: list[str] = []  # the filterset's "q"

    def get_queryset(self) -> Any:
        return queries.with_coverage(super().get_queryset(), builtin.default_years())

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "coverage_years": builtin.default_years()}

    def perform_create(self, serializer: Any) -> None:
        data = {"customer": None, **serializer.validated_data}
        user = request_user(self.request)
        if data["customer"] is None and user.customer_id is not None:
            raise exceptions.ValidationError(
                {
                    "customer": [
                        _("Choose your customer: provider-wide calendars are the provider's.")
                    ]
                }
            )
        serializer.instance = services.create_calendar(**data)

    def perform_update(self, serializer: Any) -> None:
        services.check_can_edit(request_user(self.request), serializer.instance)
        data = {k: v for k, v in serializer.validated_data.items() if k != "customer"}
        serializer.instance = services.update_calendar(serializer.instance, **data)

    def perform_destroy(self, instance: ServiceCalendar) -> None:
        services.check_can_edit(request_user(self.request), instance)
        try:
            services.delete_calendar(instance)
        except services.BuiltinCalendarError as error:
            raise Conflict(str(error)) from error

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATETIME, required=True),
            OpenApiParameter("minutes", int, required=True, description="Business minutes"),
        ],
        responses=s.DeadlineSerializer,
    )
    @action(detail=True, methods=["get"])
    def deadline(self, request: Request, pk: str | None = None) -> Response:
        """The instant at which ``minutes`` of business time have passed since ``start``."""
        calendar = self.get_object()
        start = parse_instant(request.query_params.get("start"), "start")
        minutes = parse_minutes(request.query_params.get("minutes"))
        engine = queries.business_calendar(calendar)
        try:
            deadline = engine.add(start, minutes)
        except NoBusinessTimeError as error:
            raise Conflict(_("The calendar has no working time.")) from error
        return Response(
            {
                "calendar": calendar.pk,
                "start": start.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                "minutes": minutes,
                "deadline": deadline.isoformat().replace("+00:00", "Z"),
                "deadline_local": deadline.astimezone(engine.zone).isoformat(),
                "time_zone": calendar.time_zone,
                "warnings": coverage_warnings(calendar, start, deadline),
            }
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATETIME, required=True),
            OpenApiParameter("end", OpenApiTypes.DATETIME, required=True),
        ],
        responses=s.BusinessTimeSerializer,
    )
    @action(detail=True, methods=["get"], url_path="business-time")
    def business_time(self, request: Request, pk: str | None = None) -> Response:
        """Business time between two instants (e.g. time to resolve, minus nothing else)."""
        calendar = self.get_object()
        start = parse_instant(request.query_params.get("start"), "start")
        end = parse_instant(request.query_params.get("end"), "end")
        if end < start:
            raise serializers.ValidationError({"end": [_("The end is before the start.")]})
        seconds = queries.business_calendar(calendar).elapsed(start, end)
        return Response(
            {
                "calendar": calendar.pk,
                "start": start.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                "end": end.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                "seconds": seconds,
                "minutes": seconds // 60,
                "warnings": coverage_warnings(calendar, start, end),
            }
        )

    def _editable_calendar(self, request: Request) -> ServiceCalendar:
        if not request.user.has_perm("catalog.change_servicecalendar"):
            self.permission_denied(request)
        calendar = self.get_object()
        services.check_can_edit(request_user(request), calendar)
        return calendar

    @extend_schema(
        request={"multipart/form-data": s.IcalUploadSerializer},
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="import-ical",
        parser_classes=[MultiPartParser, FormParser],
        permission_classes=[IsAuthenticated],
    )
    def import_ical(self, request: Request, pk: str | None = None) -> Response:
        """Import holidays / 调休 days from an .ics file (all or nothing, at most 1 MB)."""
        calendar = self._editable_calendar(request)
        upload = request.FILES.get("file")
        if upload is None:
            raise serializers.ValidationError({"file": [_("Attach an .ics file as 'file'.")]})
        if upload.size is not None and upload.size > ical.MAX_ICAL_BYTES:
            raise RequestEntityTooLarge(_("The file is larger than 1 MB."))
        try:
            result = ical.import_ical(calendar, upload.read(ical.MAX_ICAL_BYTES + 1))
        except ical.IcalTooLargeError as error:
            raise RequestEntityTooLarge(_("The file is larger than 1 MB.")) from error
        return Response(result.as_dict())

    @extend_schema(request=s.SeedHolidaysSerializer, responses={200: OpenApiTypes.OBJECT})
    @action(
        detail=True,
        methods=["post"],
        url_path="seed-holidays",
        permission_classes=[IsAuthenticated],
    )
    def seed_holidays(self, request: Request, pk: str | None = None) -> Response:
        """Seed mainland-China holidays and 调休 days of the given years (idempotent)."""
        calendar = self._editable_calendar(request)
        payload = s.SeedHolidaysSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = builtin.seed_public_holidays(calendar, payload.validated_data["years"])
        return Response(
            {
                "seeded_years": result.seeded_years,
                "missing_years": result.missing_years,
                **result.changes.as_dict(),
            }
        )


class WorkingIntervalViewSet(ScopedModelViewSet):
    """Weekly working intervals; they may not overlap within a weekday."""

    queryset = WorkingInterval.objects.order_by("calendar_id", "weekday", "start_minute", "id")
    serializer_class = s.WorkingIntervalSerializer
    filterset_class = IntervalFilterSet

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        services.check_can_edit(request_user(self.request), data["calendar"])
        serializer.instance = services.add_interval(
            data["calendar"],
            weekday=data["weekday"],
            start_minute=data["start_minute"],
            end_minute=data["end_minute"],
        )

    def perform_update(self, serializer: Any) -> None:
        services.check_can_edit(request_user(self.request), serializer.instance.calendar)
        data = {k: v for k, v in serializer.validated_data.items() if k != "calendar"}
        serializer.instance = services.update_interval(serializer.instance, **data)

    def perform_destroy(self, instance: WorkingInterval) -> None:
        services.check_can_edit(request_user(self.request), instance.calendar)
        services.delete_interval(instance)


class CalendarDayViewSet(ScopedModelViewSet):
    """Holidays, adjusted working days (调休) and closures; filter by calendar and year.

    POST for a date that already has an entry replaces it.
    """

    queryset = CalendarDay.objects.order_by("calendar_id", "date", "id")
    serializer_class = s.CalendarDaySerializer
    filterset_class = CalendarDayFilterSet

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        services.check_can_edit(request_user(self.request), data["calendar"])
        serializer.instance = services.set_day(
            data["calendar"], date=data["date"], kind=data["kind"], name=data.get("name", "")
        )

    def perform_update(self, serializer: Any) -> None:
        services.check_can_edit(request_user(self.request), serializer.instance.calendar)
        data = {k: v for k, v in serializer.validated_data.items() if k != "calendar"}
        serializer.instance = services.update_day(serializer.instance, **data)

    def perform_destroy(self, instance: CalendarDay) -> None:
        services.check_can_edit(request_user(self.request), instance.calendar)
        services.delete_day(instance)
