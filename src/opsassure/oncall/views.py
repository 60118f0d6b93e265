"""On-call pages: schedules with their week view, overrides, the handover log, escalation
policies and runs. Thin: every write is one ``services`` / ``handovers`` call."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from opsassure.core.tenancy import scoped
from opsassure.core.ui.generic import Column, ScopedListView
from opsassure.notify import services as notify
from opsassure.oncall import handovers, services
from opsassure.oncall.errors import OncallError
from opsassure.oncall.forms import (
    HandoverForm,
    LayerFormSet,
    OverrideForm,
    PolicyForm,
    ScheduleForm,
    StepFormSet,
    save_layers,
)
from opsassure.oncall.models import (
    EscalationPolicy,
    EscalationRun,
    Handover,
    Override,
    PersonalFeed,
    Schedule,
)


class ScheduleListView(ScopedListView):
    model = Schedule
    permission_required = "oncall.view_schedule"
    title = gettext_lazy("On-call schedules")
    template_name = "oncall/schedule_list.html"
    columns = [
        Column("name", gettext_lazy("Name"), link=True),
        Column("team", gettext_lazy("Team")),
        Column("time_zone", gettext_lazy("Time zone")),
        Column("calendar", gettext_lazy("Holiday calendar")),
    ]
    ordering = ["team__code", "name", "id"]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("team", "calendar")


@login_required
def schedule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or edit a schedule with its layers (participants as user names, in order)."""
    schedule = get_object_or_404(scoped(Schedule, request.user), pk=pk) if pk else None
    needed = "oncall.change_schedule" if schedule else "oncall.add_schedule"
    if not request.user.has_perm(needed):
        return HttpResponse(status=403)
    form = ScheduleForm(request.POST or None, instance=schedule)
    formset = LayerFormSet(request.POST or None, instance=schedule or Schedule())
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        with transaction.atomic():
            saved = form.save()
            save_layers(formset, saved)
        messages.success(request, _("Schedule saved."))
        return redirect(saved.get_absolute_url())
    status = 400 if request.method == "POST" else 200
    context = {"schedule": schedule, "form": form, "formset": formset}
    return render(request, "oncall/schedule_edit.html", context, status=status)


def _week_start(request: HttpRequest) -> dt.date:
    today = timezone.localdate()
    raw = request.GET.get("week", "")
    try:
        day = dt.date.fromisoformat(raw) if raw else today
    except ValueError:
        day = today
    return day - dt.timedelta(days=day.weekday())


def week_grid(schedule: Schedule, monday: dt.date) -> dict[str, Any]:
    """Shifts of the week starting ``monday`` (user's zone), per day, for the grid."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), tzinfo=zone)
    week = list(services.shifts(schedule, start, end))
    days = []
    for offset in range(7):
        day = monday + dt.timedelta(days=offset)
        low = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
        high = low + dt.timedelta(days=1)
        days.append(
            {
                "date": day,
                "shifts": [
                    {
                        "shift": shift,
                        "from": f"{max(shift.start, low).astimezone(zone):%H:%M}",
                        "to": "24:00"
                        if shift.end >= high
                        else f"{shift.end.astimezone(zone):%H:%M}",
                    }
                    for shift in week
                    if shift.start < high and shift.end > low
                ],
            }
        )
    return {"days": days, "shifts": week, "timeline": _timeline(days)}


def _timeline(days: list[dict[str, Any]]) -> dict[str, Any]:
    """The week as data for the ECharts timeline: one row per day, bars in minutes of the day
    (user's zone), one colour per person, overrides marked."""
    people: list[str] = []
    bars = []
    for row, day in enumerate(days):
        for item in day["shifts"]:
            person = str(item["shift"].user)
            if person not in people:
                people.append(person)
            start_h, start_m = map(int, item["from"].split(":"))
            end_h, end_m = map(int, item["to"].split(":"))
            bars.append(
                {
                    "row": row,
                    "start": start_h * 60 + start_m,
                    "end": end_h * 60 + end_m,
                    "person": people.index(person),
                    "label": f"{item['from']}–{item['to']} {person}",
                    "override": item["shift"].override is not None,
                }
            )
    return {
        "days": [f"{day['date']:%m-%d}" for day in days],
        "weekdays": [day["date"].weekday() for day in days],
        "people": people,
        "bars": bars,
    }


@login_required
@permission_required("oncall.view_schedule", raise_exception=True)
def schedule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(
        scoped(Schedule, request.user).select_related("team", "calendar"), pk=pk
    )
    monday = _week_start(request)
    form = OverrideForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("oncall.add_override"):
            return HttpResponse(status=403)
        if form.is_valid():
            try:
                services.create_override(
                    schedule,
                    user=form.cleaned_data["user"],
                    start=form.cleaned_data["start"],
                    end=form.cleaned_data["end"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,  # type: ignore[arg-type]
                )
            except OncallError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Override saved."))
                return redirect(f"{schedule.get_absolute_url()}?week={monday.isoformat()}")
    feed = personal_feed(request.user)
    context = {
        "schedule": schedule,
        "layers": schedule.layers.prefetch_related("turns__user").order_by("order", "id"),
        "overrides": schedule.overrides.filter(end__gt=timezone.now()).select_related("user"),
        "now": services.current_shift(schedule),
        "grid": week_grid(schedule, monday),
        "monday": monday,
        "previous_week": monday - dt.timedelta(days=7),
        "next_week": monday + dt.timedelta(days=7),
        "form": form,
        "schedule_feed_url": request.build_absolute_uri(
            f"/oncall/feeds/schedule/{schedule.feed_token}.ics"
        ),
        "person_feed_url": request.build_absolute_uri(f"/oncall/feeds/person/{feed.token}.ics"),
    }
    return render(
        request, "oncall/schedule_detail.html", context, status=400 if form.errors else 200
    )


@login_required
@require_POST
@permission_required("oncall.delete_override", raise_exception=True)
def override_delete(request: HttpRequest, pk: int, override_pk: int) -> HttpResponse:
    schedule = get_object_or_404(scoped(Schedule, request.user), pk=pk)
    get_object_or_404(Override.objects.filter(schedule=schedule), pk=override_pk).delete()
    messages.success(request, _("Override removed."))
    return redirect(schedule.get_absolute_url())


@login_required
@permission_required("oncall.view_handover", raise_exception=True)
def handover_log(request: HttpRequest) -> HttpResponse:
    schedules = scoped(Schedule, request.user).filter(is_active=True)
    form = HandoverForm(request.POST or None, schedules=schedules)
    status = 200
    if request.method == "POST":
        if not request.user.has_perm("oncall.add_handover"):
            return HttpResponse(status=403)
        if form.is_valid():
            try:
                handovers.write_handover(
                    form.cleaned_data["schedule"],
                    outgoing=request.user,  # type: ignore[arg-type]
                    open_issues=form.cleaned_data["open_issues"],
                    notes=form.cleaned_data["notes"],
                )
            except OncallError as error:
                form.add_error(None, error.message)
                status = error.status_code
            else:
                messages.success(request, _("Handover written."))
                return redirect("oncall:handover-log")
        else:
            status = 400
    entries = (
        scoped(Handover, request.user)
        .select_related("schedule__team", "outgoing", "incoming", "acknowledged_by")
        .order_by("-handoff_at", "-id")[:50]
    )
    return render(
        request, "oncall/handover_log.html", {"form": form, "entries": entries}, status=status
    )


@login_required
@require_POST
@permission_required("oncall.view_handover", raise_exception=True)
def handover_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    handover = get_object_or_404(scoped(Handover, request.user), pk=pk)
    try:
        handovers.acknowledge_handover(handover, user=request.user)  # type: ignore[arg-type]
    except OncallError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Handover acknowledged."))
    return redirect("oncall:handover-log")


def personal_feed(user: Any) -> PersonalFeed:
    """The user's feed token, created on first use (two tabs at once must not fail)."""
    try:
        with transaction.atomic():
            return PersonalFeed.objects.get_or_create(user=user)[0]
    except IntegrityError:
        return PersonalFeed.objects.get(user=user)


class PolicyListView(ScopedListView):
    model = EscalationPolicy
    permission_required = "oncall.view_escalationpolicy"
    title = gettext_lazy("Escalation policies")
    template_name = "oncall/policy_list.html"
    columns = [
        Column("name", gettext_lazy("Name"), link=True),
        Column("team", gettext_lazy("Team")),
        Column("description", gettext_lazy("Description")),
    ]
    ordering = ["name", "id"]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("team")


@login_required
@permission_required("oncall.view_escalationpolicy", raise_exception=True)
def policy_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    policy = (
        get_object_or_404(scoped(EscalationPolicy, request.user), pk=pk) if pk is not None else None
    )
    can_edit = request.user.has_perm(
        "oncall.change_escalationpolicy" if policy else "oncall.add_escalationpolicy"
    )
    form = PolicyForm(request.POST or None, instance=policy)
    formset = StepFormSet(request.POST or None, instance=policy or EscalationPolicy())
    if request.method == "POST":
        if not can_edit:
            return HttpResponse(status=403)
        if form.is_valid() and formset.is_valid():
            with transaction.atomic():
                saved = form.save()
                formset.instance = saved
                formset.save(commit=False)
                for gone in formset.deleted_objects:
                    gone.delete()
                kept = [
                    f.instance
                    for f in formset.forms
                    if f not in formset.deleted_forms and (f.instance.pk or f.has_changed())
                ]
                # Renumber 0..n-1 in form order (two passes: the positions are unique).
                for offset, step in enumerate(kept):
                    step.policy = saved
                    step.position = 1000 + offset
                    step.save()
                for offset, step in enumerate(kept):
                    step.position = offset
                    step.save(update_fields=["position"])
            messages.success(request, _("Escalation policy saved."))
            return redirect(saved.get_absolute_url())
    return render(
        request,
        "oncall/policy_edit.html",
        {"policy": policy, "form": form, "formset": formset, "can_edit": can_edit},
        status=400 if request.method == "POST" else 200,
    )


class RunListView(ScopedListView):
    model = EscalationRun
    permission_required = "oncall.view_escalationrun"
    title = gettext_lazy("Escalations")
    columns = [
        Column("title", gettext_lazy("Title"), link=True),
        Column("state", gettext_lazy("State")),
        Column("severity", gettext_lazy("Severity")),
        Column("customer", gettext_lazy("Customer")),
        Column("created_at", gettext_lazy("Started at")),
        Column("acknowledged_by", gettext_lazy("Acknowledged by")),
    ]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("customer", "acknowledged_by")


@login_required
@permission_required("oncall.view_escalationrun", raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(
        scoped(EscalationRun, request.user).select_related(
            "customer", "ticket", "policy", "acknowledged_by", "resolved_by"
        ),
        pk=pk,
    )
    context = {
        "run": run,
        "steps": run.steps.order_by("position", "repeat", "id"),
        "deliveries": notify.for_source(run),
        "can_act": request.user.has_perm("oncall.change_escalationrun"),
    }
    return render(request, "oncall/run_detail.html", context)


@login_required
@require_POST
@permission_required("oncall.change_escalationrun", raise_exception=True)
def run_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    run = get_object_or_404(scoped(EscalationRun, request.user), pk=pk)
    user: Any = request.user
    try:
        if action == "ack":
            services.acknowledge(run, user=user, via="web")
        elif action == "resolve":
            services.resolve(run, user=user, via="web")
        elif action == "escalate":
            services.escalate_now(run, user=user)
        else:
            return HttpResponse(status=404)
    except OncallError as error:
        messages.error(request, error.message)
    return redirect(run.get_absolute_url())
