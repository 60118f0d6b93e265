"""Alerting pages: the live alert list, group detail, integrations, silences, maintenance."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from opsassure.alerting import processing, services, snippets
from opsassure.alerting.filtersets import AlertFilterSet, AlertGroupFilterSet
from opsassure.alerting.forms import (
    InhibitionRuleForm,
    IntegrationForm,
    MaintenanceWindowForm,
    RoutingRuleForm,
    SilenceForm,
)
from opsassure.alerting.models import (
    Alert,
    AlertGroup,
    IngestBatch,
    InhibitionRule,
    Integration,
    MaintenanceWindow,
    RoutingRule,
    Silence,
)
from opsassure.alerting.suppression import occurrence_active
from opsassure.core.tenancy import is_provider_staff, scoped
from opsassure.core.ui.generic import Column, ScopedDetailView, ScopedListView, save_or_show_form

REFRESH_SECONDS = 10


class GroupListView(LoginRequiredMixin, PermissionRequiredMixin, ListView[AlertGroup]):
    """The live alert list: open groups first (HTMX reloads the rows every 10 s)."""

    permission_required = "alerting.view_alertgroup"
    template_name = "alerting/group_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[AlertGroup]:
        queryset = (
            scoped(AlertGroup, self.request.user)
            .select_related("customer", "ci", "incident", "integration")
            .order_by("-last_alert_at", "-id")
        )
        params = self.request.GET.copy()
        if "is_open" not in params and "state" not in params:
            params["is_open"] = "true"
        self.filterset = AlertGroupFilterSet(params, queryset=queryset, request=self.request)
        return self.filterset.qs if self.filterset.is_valid() else queryset.none()

    def get_template_names(self) -> list[str]:
        if getattr(self.request, "htmx", False):
            return ["alerting/_group_rows.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filterset=self.filterset,
            querystring=query.urlencode(),
            refresh_seconds=REFRESH_SECONDS,
            backlog=ingest_backlog(self.request.user),
        )
        return context


def ingest_backlog(user: Any) -> dict[str, Any] | None:
    """Accepted batches a worker has not processed for longer than the sweep waits, for
    provider staff (the batches of every customer: counts only). None when there are none.

    Accepted alerts are safe in the database but appear on this page only once a worker has
    written and processed them; a stopped worker must not look like a quiet night."""
    if not is_provider_staff(user):
        return None
    since = timezone.now() - processing.REDRIVE_AFTER
    row = IngestBatch.objects.filter(processed_at__isnull=True, received_at__lt=since).aggregate(
        batches=Count("id"), alerts=Sum("alert_count"), oldest=Min("received_at")
    )
    if not row["batches"]:
        return None
    return row


class GroupDetailView(ScopedDetailView):
    model = AlertGroup
    permission_required = "alerting.view_alertgroup"
    template_name = "alerting/group_detail.html"

    def get_queryset(self) -> QuerySet[AlertGroup]:
        return (
            super()
            .get_queryset()
            .select_related(
                "customer",
                "ci",
                "incident",
                "integration",
                "service",
                "owner_team",
                "routing_rule",
                "acknowledged_by",
            )
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        group: AlertGroup = self.object
        context["alerts"] = group.alerts.select_related("ci").order_by(
            "status", "-last_seen", "pk"
        )[:200]
        context["events"] = group.events.select_related("actor").order_by("at", "id")[:500]
        from opsassure.notify.services import for_source

        context["notifications"] = for_source(group)[:100]
        context["can_ack"] = (
            group.is_open
            and group.acknowledged_at is None
            and self.request.user.has_perm("alerting.change_alertgroup")
        )
        return context


@login_required
@permission_required("alerting.change_alertgroup", raise_exception=True)
@require_POST
def group_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(scoped(AlertGroup, request.user), pk=pk)
    user: Any = request.user
    if services.acknowledge_group(group, user=user, via="ui"):
        messages.success(request, _("Acknowledged."))
    return HttpResponseRedirect(group.get_absolute_url())


class AlertListView(ScopedListView):
    model = Alert
    permission_required = "alerting.view_alert"
    title = gettext_lazy("Alerts")
    filterset_class = AlertFilterSet
    ordering = ["-last_seen", "-id"]
    columns = [
        Column("alertname", gettext_lazy("Alert")),
        Column("summary", gettext_lazy("Summary")),
        Column("status", gettext_lazy("Status")),
        Column("severity", gettext_lazy("Severity")),
        Column("suppressed", gettext_lazy("Suppressed")),
        Column("cycle", gettext_lazy("Cycle")),
        Column("repeat_count", gettext_lazy("Repeats")),
        Column("last_seen", gettext_lazy("Last seen")),
        Column("customer", gettext_lazy("Customer")),
    ]

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("customer")


class IntegrationListView(ScopedListView):
    model = Integration
    permission_required = "alerting.view_integration"
    title = gettext_lazy("Integrations")
    ordering = ["name", "id"]
    create_url_name = "alerting:integration-create"
    template_name = "alerting/integration_list.html"
    columns = [
        Column("name", gettext_lazy("Name"), link=True),
        Column("kind", gettext_lazy("Kind")),
        Column("customer", gettext_lazy("Customer")),
        Column("enabled", gettext_lazy("Enabled")),
        Column("last_received_at", gettext_lazy("Last received")),
    ]

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("customer")


class IntegrationDetailView(ScopedDetailView):
    model = Integration
    permission_required = "alerting.view_integration"
    template_name = "alerting/integration_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        integration: Integration = self.object
        url = self.request.build_absolute_uri(integration.ingest_path())
        if integration.kind == "events_v2":
            url_pd = self.request.build_absolute_uri(reverse("alerting-events-v2"))
            context["pd_url"] = url_pd
        context["ingest_url"] = url
        context["snippet"] = snippets.snippet(
            integration.kind, url, bool(integration.bearer_token_hash)
        )
        context["recent_groups"] = integration.groups.select_related("customer").order_by(
            "-last_alert_at", "-id"
        )[:10]
        context["can_change"] = self.request.user.has_perm("alerting.change_integration")
        return context


@login_required
@permission_required("alerting.add_integration", raise_exception=True)
def integration_create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = IntegrationForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        integration = services.create_integration(
            name=data["name"],
            kind=data["kind"],
            customer=data["customer"],
            actor=user,
            bearer_token=data["bearer_token"],
            rate_limit_per_minute=data["rate_limit_per_minute"],
            group_by=data["group_by"],
        )
        messages.success(request, _("Integration created. Paste its URL into the sender."))
        return HttpResponseRedirect(integration.get_absolute_url())
    return render(request, "alerting/form.html", {"form": form, "title": _("New integration")})


@login_required
@permission_required("alerting.change_integration", raise_exception=True)
@require_POST
def integration_test(request: HttpRequest, pk: int) -> HttpResponse:
    integration = get_object_or_404(scoped(Integration, request.user), pk=pk)
    if not integration.is_active:
        messages.error(request, _("The integration is disabled or revoked."))
    else:
        user: Any = request.user
        services.send_test_alert(integration, user=user)
        messages.success(
            request, _("Test alert sent; it appears in the alert list within seconds.")
        )
    return HttpResponseRedirect(integration.get_absolute_url())


@login_required
@permission_required("alerting.change_integration", raise_exception=True)
@require_POST
def integration_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    integration = get_object_or_404(scoped(Integration, request.user), pk=pk)
    if services.revoke_integration(integration):
        messages.success(request, _("Revoked: the URL answers 404 from now on."))
    return HttpResponseRedirect(integration.get_absolute_url())


@login_required
@permission_required("alerting.change_silence", raise_exception=True)
@require_POST
def silence_expire(request: HttpRequest, pk: int) -> HttpResponse:
    silence = get_object_or_404(scoped(Silence, request.user), pk=pk)
    if services.expire_silence(silence):
        messages.success(request, _("Silence expired: the alerts it muted fire again."))
    return HttpResponseRedirect(reverse("alerting:silence-list"))


class SilenceListView(ScopedListView):
    model = Silence
    permission_required = "alerting.view_silence"
    title = gettext_lazy("Silences")
    ordering = ["-starts_at", "-id"]
    create_url_name = "alerting:silence-create"
    template_name = "alerting/silence_list.html"
    columns = [
        Column("comment", gettext_lazy("Comment")),
        Column("matchers", gettext_lazy("Label matchers")),
        Column("starts_at", gettext_lazy("Starts at")),
        Column("ends_at", gettext_lazy("Ends at")),
        Column("customer", gettext_lazy("Customer")),
        Column("created_by", gettext_lazy("Created by")),
    ]

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("customer", "created_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user: Any = self.request.user
        context["can_expire"] = user.has_perm("alerting.change_silence")
        context["now"] = timezone.now()
        return context


@login_required
@permission_required("alerting.add_silence", raise_exception=True)
def silence_create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    initial = {"starts_at": timezone.localtime().replace(second=0, microsecond=0)}
    initial["ends_at"] = initial["starts_at"] + dt.timedelta(hours=2)
    form = SilenceForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.create_silence(
                customer=data["customer"],
                matchers_=data["matchers"],
                cis=data["cis"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                comment=data["comment"],
                actor=user,
            )
        except services.AlertingError as error:
            for name, problem in error.fields.items():
                form.add_error(name if name in form.fields else None, problem)
        else:
            messages.success(request, _("Silence created."))
            return HttpResponseRedirect(reverse("alerting:silence-list"))
    # After a POST this is a refusal (nothing was written): a 400, like every form page.
    status = 400 if request.method == "POST" else 200
    return render(
        request, "alerting/form.html", {"form": form, "title": _("New silence")}, status=status
    )


class MaintenanceListView(ScopedListView):
    model = MaintenanceWindow
    permission_required = "alerting.view_maintenancewindow"
    title = gettext_lazy("Maintenance windows")
    ordering = ["-starts_at", "-id"]
    create_url_name = "alerting:maintenance-create"
    template_name = "alerting/integration_list.html"
    columns = [
        Column("name", gettext_lazy("Name")),
        Column("starts_at", gettext_lazy("Starts at")),
        Column("ends_at", gettext_lazy("Ends at")),
        Column("recurrence", gettext_lazy("Recurrence")),
        Column("customer", gettext_lazy("Customer")),
        Column("source_type", gettext_lazy("Source")),
    ]

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("customer")


@login_required
@permission_required("alerting.add_maintenancewindow", raise_exception=True)
def maintenance_create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    form = MaintenanceWindowForm(
        request.POST or None,
        user=user,
        initial={
            "starts_at": start,
            "ends_at": start + dt.timedelta(hours=2),
            "include_dependents": True,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.create_maintenance_window(
                name=data["name"],
                customer=data["customer"],
                cis=data["cis"],
                matchers_=data["matchers"],
                include_dependents=data["include_dependents"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                recurrence=data["recurrence"],
                weekdays=data["weekdays"],
                time_zone=data["time_zone"],
                repeat_until=data["repeat_until"],
                actor=user,
            )
        except services.AlertingError as error:
            for name, problem in error.fields.items():
                form.add_error(name if name in form.fields else None, problem)
        else:
            messages.success(request, _("Maintenance window created."))
            return HttpResponseRedirect(reverse("alerting:maintenance-list"))
    return render(
        request,
        "alerting/form.html",
        {"form": form, "title": _("New maintenance window")},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@permission_required("alerting.view_maintenancewindow", raise_exception=True)
def calendar_week(request: HttpRequest) -> HttpResponse:
    """This week (or ``?start=YYYY-MM-DD``): each day's hours covered by windows and silences."""
    today = timezone.localdate()
    try:
        start = dt.date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = today - dt.timedelta(days=today.weekday())
    zone = timezone.get_current_timezone()
    days = [start + dt.timedelta(days=i) for i in range(7)]
    first = dt.datetime.combine(days[0], dt.time(), tzinfo=zone)
    last = first + dt.timedelta(days=7)
    windows = list(
        scoped(MaintenanceWindow, request.user)
        .filter(starts_at__lt=last)
        .select_related("customer")
        .order_by("starts_at", "pk")[:200]
    )
    silences = list(
        scoped(Silence, request.user)
        .filter(starts_at__lt=last, ends_at__gt=first)
        .order_by("starts_at", "pk")[:200]
    )
    grid: list[dict[str, Any]] = []
    for day in days:
        hours = []
        for hour in range(24):
            at = dt.datetime.combine(day, dt.time(hour), tzinfo=zone)
            entries = [w.name for w in windows if occurrence_active(w, at)]
            entries += [s.comment for s in silences if s.starts_at <= at < s.ends_at]
            hours.append(entries)
        grid.append({"day": day, "hours": hours})
    return render(
        request,
        "alerting/calendar.html",
        {
            "grid": grid,
            "hours": range(24),
            "previous": days[0] - dt.timedelta(days=7),
            "next": days[0] + dt.timedelta(days=7),
        },
    )


class RoutingRuleListView(ScopedListView):
    model = RoutingRule
    permission_required = "alerting.view_routingrule"
    title = gettext_lazy("Routing rules")
    ordering = ["position", "id"]
    create_url_name = "alerting:routingrule-create"
    template_name = "alerting/integration_list.html"
    columns = [
        Column("position", gettext_lazy("Order")),
        Column("name", gettext_lazy("Name"), link=True),
        Column("matchers", gettext_lazy("Label matchers")),
        Column("severities", gettext_lazy("Severities")),
        Column("action", gettext_lazy("Action")),
        Column("customer", gettext_lazy("Customer")),
        Column("integration", gettext_lazy("Integration")),
        Column("enabled", gettext_lazy("Enabled")),
    ]

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("customer", "integration")


class InhibitionRuleListView(ScopedListView):
    model = InhibitionRule
    permission_required = "alerting.view_inhibitionrule"
    title = gettext_lazy("Inhibition rules")
    ordering = ["name", "id"]
    create_url_name = "alerting:inhibitionrule-create"
    template_name = "alerting/integration_list.html"
    columns = [
        Column("name", gettext_lazy("Name"), link=True),
        Column("source_matchers", gettext_lazy("Source matchers")),
        Column("target_matchers", gettext_lazy("Target matchers")),
        Column("equal", gettext_lazy("Equal labels")),
        Column("customer", gettext_lazy("Customer")),
        Column("enabled", gettext_lazy("Enabled")),
    ]

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("customer")


# --- routing and inhibition rules: create, edit, delete ---------------------------------------
RULE_FORMS: dict[str, tuple[type[Any], Any, str]] = {
    # kind: (form, model, list URL name)
    "routingrule": (RoutingRuleForm, RoutingRule, "alerting:routingrule-list"),
    "inhibitionrule": (InhibitionRuleForm, InhibitionRule, "alerting:inhibitionrule-list"),
}


def _rule_page(request: HttpRequest, kind: str, pk: int | None) -> HttpResponse:
    form_class, model, list_url = RULE_FORMS[kind]
    user: Any = request.user
    action = "change" if pk is not None else "add"
    if not user.has_perm(f"alerting.{action}_{kind}"):
        raise PermissionDenied
    instance = get_object_or_404(scoped(model, user), pk=pk) if pk is not None else None
    form = form_class(request.POST or None, instance=instance, user=user)
    names = model._meta
    context: dict[str, Any] = {
        "title": (
            _("Edit %(object)s") % {"object": instance}
            if instance is not None
            else _("New %(kind)s") % {"kind": names.verbose_name}
        ),
        "back_url": reverse(list_url),
    }
    if instance is not None and user.has_perm(f"alerting.delete_{kind}"):
        context["delete_url"] = reverse(f"alerting:{kind}-delete", args=[instance.pk])
    return save_or_show_form(
        request,
        form,
        "alerting/form.html",
        context,
        lambda saved: (
            _("%(kind)s “%(name)s” saved.")
            % {"kind": str(names.verbose_name).capitalize(), "name": saved}
        ),
    )


@login_required
def routing_rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_page(request, "routingrule", None)


@login_required
def routing_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _rule_page(request, "routingrule", pk)


@login_required
def inhibition_rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_page(request, "inhibitionrule", None)


@login_required
def inhibition_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _rule_page(request, "inhibitionrule", pk)


@login_required
@require_POST
def rule_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if kind not in RULE_FORMS:
        raise Http404
    _form, model, list_url = RULE_FORMS[kind]
    user: Any = request.user
    if not user.has_perm(f"alerting.delete_{kind}"):
        raise PermissionDenied
    rule = get_object_or_404(scoped(model, user), pk=pk)
    name = str(rule)
    rule.delete()
    messages.success(request, _("“%(name)s” deleted.") % {"name": name})
    return HttpResponseRedirect(reverse(list_url))
