"""Calendar pages: the list, and a calendar's month grid, weekly hours, import and calculator."""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from opsassure.catalog import builtin, ical, queries, services
from opsassure.catalog.business_time import BusinessCalendar, NoBusinessTimeError, format_minute
from opsassure.catalog.filtersets import CalendarFilterSet
from opsassure.catalog.forms import DeadlineForm, IcalImportForm
from opsassure.catalog.models import CalendarDay, ServiceCalendar, WorkingInterval
from opsassure.core.auth import request_user
from opsassure.core.tenancy import is_provider_staff, scoped
from opsassure.core.ui.generic import Column, ScopedDetailView, ScopedListView


class CoverageColumn(Column):
    """ "✓" when this year's holidays are known, else a warning."""

    def value(self, obj: Any) -> Any:
        year = builtin.default_years()[1]
        return _("yes") if queries.is_covered(obj, year) else _("missing — plain weekdays")


class YesNoColumn(Column):
    def value(self, obj: Any) -> Any:
        return _("yes") if getattr(obj, self.attr) else _("no")


class CalendarListView(ScopedListView):
    model = ServiceCalendar
    permission_required = "catalog.view_servicecalendar"
    filterset_class = CalendarFilterSet
    ordering = ["code", "id"]
    columns = [
        Column("code", gettext_lazy("Code"), link=True),
        Column("name", gettext_lazy("Name")),
        Column("customer", gettext_lazy("Customer")),
        Column("time_zone", gettext_lazy("Time zone")),
        YesNoColumn("holidays_included", gettext_lazy("Holidays included")),
        CoverageColumn("pk", gettext_lazy("Holiday data this year")),
    ]

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset().select_related("customer")
        return queries.with_coverage(queryset, builtin.default_years())


@dataclass(frozen=True)
class DayCell:
    date: dt.date
    in_month: bool
    is_today: bool
    kind: str  # working | off | holiday | workday | closed
    label: str
    name: str
    hours: str


def _hours(seconds: int) -> str:
    if seconds == 0:
        return ""
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h" if not rest else f"{hours}h{rest // 60:02d}"


def _cell(
    day: dt.date, month: int, today: dt.date, entry: CalendarDay | None, engine: BusinessCalendar
) -> DayCell:
    seconds = engine.business_seconds_on(day)
    if entry is not None and entry.kind == CalendarDay.Kind.CLOSED:
        kind, label = "closed", _("Closed")
    elif entry is not None and entry.kind == CalendarDay.Kind.HOLIDAY:
        kind = "holiday"
        label = _("Holiday (worked)") if engine.holidays_included else _("Holiday")
    elif entry is not None and entry.kind == CalendarDay.Kind.WORKDAY:
        kind, label = "workday", _("调休 working day")
    else:
        kind, label = ("working", _("Working day")) if seconds else ("off", _("Day off"))
    return DayCell(
        date=day,
        in_month=day.month == month,
        is_today=day == today,
        kind=kind,
        label=label,
        name=entry.name if entry is not None else "",
        hours=_hours(seconds),
    )


def _month(raw: str | None, today: dt.date) -> dt.date:
    try:
        year_text, month_text = (raw or "").split("-")
        first = dt.date(int(year_text), int(month_text), 1)
    except ValueError:
        return today.replace(day=1)
    return first if 1971 <= first.year <= 2199 else today.replace(day=1)


class CalendarDetailView(ScopedDetailView):
    model = ServiceCalendar
    permission_required = "catalog.view_servicecalendar"
    template_name = "catalog/calendar_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        calendar: ServiceCalendar = self.object
        engine = queries.business_calendar(calendar)
        today = timezone.now().astimezone(engine.zone).date()
        first = _month(self.request.GET.get("month"), today)
        weeks = month_calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
        entries = {
            day.date: day
            for day in CalendarDay.objects.filter(
                calendar=calendar, date__range=(weeks[0][0], weeks[-1][-1])
            )
        }
        grid = [
            [_cell(day, first.month, today, entries.get(day), engine) for day in week]
            for week in weeks
        ]
        previous_month = (first - dt.timedelta(days=1)).replace(day=1)
        next_month = (first + dt.timedelta(days=32)).replace(day=1)
        years = sorted({*builtin.default_years(), first.year})
        user = request_user(self.request)
        can_edit = user.has_perm("catalog.change_servicecalendar") and (
            calendar.customer_id is not None or is_provider_staff(user)
        )
        calculator = self._calculator(engine)
        context.update(
            engine=engine,
            month=first,
            grid=grid,
            weekday_names=[str(label) for label in WorkingInterval.Weekday.labels],
            previous_month=f"{previous_month:%Y-%m}",
            next_month=f"{next_month:%Y-%m}",
            this_month=f"{today:%Y-%m}",
            weekly=self._weekly(calendar),
            missing_years=[year for year in years if not engine.coverage(year)],
            can_edit=can_edit,
            import_form=IcalImportForm() if can_edit else None,
            show_calculator=is_provider_staff(user),
            **calculator,
        )
        return context

    def _weekly(self, calendar: ServiceCalendar) -> list[tuple[str, list[str]]]:
        rows: dict[int, list[str]] = {day: [] for day in range(7)}
        for interval in calendar.intervals.order_by("weekday", "start_minute"):
            rows[interval.weekday].append(
                f"{format_minute(interval.start_minute)}–{format_minute(interval.end_minute)}"
            )
        labels = dict(WorkingInterval.Weekday.choices)
        return [(str(labels[day]), spans) for day, spans in rows.items()]

    def _calculator(self, engine: BusinessCalendar) -> dict[str, Any]:
        if "minutes" not in self.request.GET:
            return {"deadline_form": DeadlineForm(zone=engine.zone), "deadline": None}
        form = DeadlineForm(self.request.GET, zone=engine.zone)
        deadline = None
        if form.is_valid():
            try:
                deadline = engine.add(form.cleaned_data["start"], form.cleaned_data["minutes"])
            except NoBusinessTimeError:
                form.add_error(None, _("The calendar has no working time."))
        if deadline is None:
            return {"deadline_form": form, "deadline": None}
        # Formatted here: templates would convert any aware datetime to the viewer's zone.
        in_calendar_zone = deadline.astimezone(engine.zone)
        in_user_zone = timezone.localtime(deadline)
        return {
            "deadline_form": form,
            "deadline": f"{in_calendar_zone:%Y-%m-%d %H:%M}",
            "deadline_user": f"{in_user_zone:%Y-%m-%d %H:%M} {in_user_zone.tzname()}",
        }


@login_required
@permission_required("catalog.change_servicecalendar", raise_exception=True)
@require_POST
def calendar_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload an .ics file into a calendar (all or nothing); back to the calendar page."""
    calendar = get_object_or_404(scoped(ServiceCalendar, request.user), pk=pk)
    services.check_can_edit(request_user(request), calendar)
    form = IcalImportForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(calendar)
    try:
        result = ical.import_ical(calendar, form.cleaned_data["file"].read(ical.MAX_ICAL_BYTES + 1))
    except ical.IcalTooLargeError:
        messages.error(request, _("The file is larger than 1 MB."))
    except ical.IcalImportError as error:
        messages.error(request, _("Nothing was imported:"))
        for problem in error.errors:
            messages.error(request, problem)
    else:
        messages.success(
            request,
            _("Imported %(days)d days (%(created)d new, %(updated)d changed).")
            % {"days": result.days, "created": result.created, "updated": result.updated},
        )
    return redirect(calendar)
