"""Monitoring pages: the overview per customer, the checks list, a check's detail with its
charts, the check form, bulk creation from the CMDB, and the CI page's monitoring panel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from opsassure.cmdb.models import ConfigurationItem
from opsassure.core.auth import request_user
from opsassure.core.models import Customer
from opsassure.core.tenancy import is_provider_staff, scoped
from opsassure.monitoring import charts, services
from opsassure.monitoring.filtersets import MonitorFilterSet
from opsassure.monitoring.forms import TARGET_HINTS, BulkCheckForm, CheckForm
from opsassure.monitoring.models import (
    CheckResult,
    CheckState,
    MetricSeries,
    Monitor,
    MonitorProbeState,
    Probe,
)

REFRESH_SECONDS = 15
CERT_WARN_DAYS = 30
FILTER_FIELDS = ("q", "customer", "state", "kind", "enabled")


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False)) or request.headers.get("HX-Request") == "true"


@login_required
@permission_required("monitoring.view_monitor", raise_exception=True)
def overview(request: HttpRequest) -> HttpResponse:
    """Up / degraded / down counts per customer, what is failing now, the slowest checks,
    certificates expiring soon and the probes (HTMX refreshes the body)."""
    user = request_user(request)
    checks = scoped(Monitor, user)
    customers = scoped(Customer, user).order_by("name")
    chosen: Customer | None = None
    customer_id = request.GET.get("customer", "")
    if customer_id.isdigit():
        chosen = customers.filter(pk=int(customer_id)).first()
    if chosen is not None:
        checks = checks.filter(customer=chosen)
    now = timezone.now()
    failing = list(
        checks.filter(enabled=True, state__in=[CheckState.DOWN, CheckState.DEGRADED])
        .select_related("customer", "ci")
        .order_by(F("state_since").asc(nulls_last=True), "pk")[:25]
    )
    slowest = list(
        checks.filter(enabled=True, last_response_ms__isnull=False)
        .select_related("customer")
        .order_by("-last_response_ms", "pk")[:8]
    )
    certs = list(
        checks.filter(enabled=True, cert_expires_at__lt=now + dt.timedelta(days=CERT_WARN_DAYS))
        .select_related("customer")
        .order_by("cert_expires_at", "pk")[:10]
    )
    probes = []
    if is_provider_staff(user) and user.has_perm("monitoring.view_probe"):
        probes = [
            charts.probe_health(probe, now)
            for probe in scoped(Probe, user).filter(revoked_at__isnull=True).order_by("name")[:20]
        ]
    context = {
        "counts": charts.state_counts(checks),
        "customers_rows": charts.per_customer(checks) if chosen is None else [],
        "customers": customers,
        "chosen": chosen,
        "failing": failing,
        "slowest": slowest,
        "certs": certs,
        "probes": probes,
        "now": now,
        "cert_warn_days": CERT_WARN_DAYS,
        "refresh_seconds": REFRESH_SECONDS,
        "querystring": request.GET.urlencode(),
    }
    template = "monitoring/_overview_body.html" if _is_htmx(request) else "monitoring/overview.html"
    return render(request, template, context)


class CheckListView(LoginRequiredMixin, PermissionRequiredMixin, ListView[Monitor]):
    """Every visible check with its state, the last 24 hours as hourly beats, availability and
    response time; the rows reload every 15 s (HTMX)."""

    permission_required = "monitoring.view_monitor"
    template_name = "monitoring/check_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[Monitor]:
        queryset = (
            scoped(Monitor, self.request.user)
            .select_related("customer", "ci")
            .order_by("customer__name", "name", "pk")
        )
        self.filterset = MonitorFilterSet(self.request.GET, queryset=queryset, request=self.request)
        return self.filterset.qs if self.filterset.is_valid() else queryset.none()

    def get_template_names(self) -> list[str]:
        if _is_htmx(self.request):
            return ["monitoring/_check_rows.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        rows = list(context["object_list"])
        ids = [row.pk for row in rows]
        beats = charts.beats(ids)
        availability = charts.availability_24h(ids)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            rows=[(row, beats.get(row.pk, []), availability.get(row.pk)) for row in rows],
            filter_fields=[self.filterset.form[name] for name in FILTER_FIELDS],
            filterset=self.filterset,
            querystring=query.urlencode(),
            refresh_seconds=REFRESH_SECONDS,
        )
        return context


def _visible_check(request: HttpRequest, pk: int) -> Monitor:
    return get_object_or_404(
        scoped(Monitor, request.user).select_related("customer", "ci", "calendar"), pk=pk
    )


@login_required
@permission_required("monitoring.view_monitor", raise_exception=True)
def check_detail(request: HttpRequest, pk: int) -> HttpResponse:
    monitor = _visible_check(request, pk)
    window = request.GET.get("window", charts.DEFAULT_WINDOW)
    if window not in charts.WINDOWS:
        window = charts.DEFAULT_WINDOW
    data = charts.chart_data(monitor, window)
    now = timezone.now()
    availability = {
        name: charts.availability(monitor, *charts.window_bounds(name, now))
        for name in charts.WINDOWS
    }
    probe_states = list(
        MonitorProbeState.objects.filter(monitor=monitor)
        .select_related("probe")
        .order_by("probe__name")
    )
    recent = list(
        CheckResult.objects.filter(monitor=monitor)
        .select_related("probe")
        .order_by("-started_at", "-id")[:30]
    )
    user = request_user(request)
    return render(
        request,
        "monitoring/check_detail.html",
        {
            "check": monitor,
            "window": window,
            "windows": list(charts.WINDOWS),
            "chart": data.as_dict(),
            "availability": availability,
            "probe_states": probe_states,
            "probes": list(monitor.probes.order_by("name")),
            "recent": recent,
            "now": now,
            "can_change": user.has_perm("monitoring.change_monitor"),
            "can_delete": user.has_perm("monitoring.delete_monitor"),
            "chart_url": reverse("monitoring:check-chart", args=[monitor.pk]),
        },
    )


@login_required
@permission_required("monitoring.view_monitor", raise_exception=True)
def check_chart(request: HttpRequest, pk: int) -> JsonResponse:
    """The chart data of one window (the detail page fetches it when the window changes)."""
    monitor = _visible_check(request, pk)
    return JsonResponse(charts.chart_data(monitor, request.GET.get("window", "24h")).as_dict())


def _form_page(
    request: HttpRequest, form: CheckForm, title: str, monitor: Monitor | None
) -> HttpResponse:
    return render(
        request,
        "monitoring/check_form.html",
        {"form": form, "title": title, "check": monitor, "target_hints": TARGET_HINTS},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@permission_required("monitoring.add_monitor", raise_exception=True)
def check_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    initial: dict[str, Any] = {}
    ci_id = request.GET.get("ci", "")
    if ci_id.isdigit():
        ci = scoped(ConfigurationItem, user).filter(pk=int(ci_id)).first()
        if ci is not None:
            host = services.ci_host(ci)
            initial.update(
                ci=ci.pk, customer=ci.customer_id, name=f"{ci.name} ping", kind="icmp", target=host
            )
    form = CheckForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            monitor = services.create_check(
                customer=form.cleaned_data["customer"], **form.service_arguments()
            )
        except services.MonitoringError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Check created; the probe runs it within one interval."))
            return HttpResponseRedirect(reverse("monitoring:check-detail", args=[monitor.pk]))
    return _form_page(request, form, _("New check"), None)


@login_required
@permission_required("monitoring.change_monitor", raise_exception=True)
def check_edit(request: HttpRequest, pk: int) -> HttpResponse:
    monitor = _visible_check(request, pk)
    form = CheckForm(request.POST or None, user=request_user(request), instance=monitor)
    if request.method == "POST" and form.is_valid():
        arguments = form.service_arguments()
        probes = arguments.pop("probes")
        try:
            services.update_check(monitor, probes=probes, **arguments)
        except services.MonitoringError as error:
            form.add_service_errors(error)
            monitor.refresh_from_db()
        else:
            messages.success(request, _("Check saved; probes pick up the change."))
            return HttpResponseRedirect(reverse("monitoring:check-detail", args=[monitor.pk]))
    return _form_page(request, form, _("Edit check"), monitor)


@login_required
@permission_required("monitoring.change_monitor", raise_exception=True)
@require_POST
def check_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    monitor = _visible_check(request, pk)
    enabled = request.POST.get("enabled") == "1"
    if services.set_enabled(monitor, enabled):
        messages.success(request, _("Check resumed.") if enabled else _("Check paused."))
    return HttpResponseRedirect(reverse("monitoring:check-detail", args=[monitor.pk]))


@login_required
@permission_required("monitoring.delete_monitor", raise_exception=True)
@require_POST
def check_delete(request: HttpRequest, pk: int) -> HttpResponse:
    monitor = _visible_check(request, pk)
    name = monitor.name
    services.delete_check(monitor)
    messages.success(request, _("Check %s deleted with its results.") % name)
    return HttpResponseRedirect(reverse("monitoring:check-list"))


@login_required
@permission_required("monitoring.add_monitor", raise_exception=True)
def check_bulk(request: HttpRequest) -> HttpResponse:
    """Checks for every CI of a type and/or tag of one customer (e.g. ping every server)."""
    user = request_user(request)
    form = BulkCheckForm(request.POST or None, user=user)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = services.bulk_create_checks(
                customer=form.cleaned_data["customer"],
                cis=form.cis(),
                kind=form.cleaned_data["kind"],
                template=form.template(),
            )
        except services.MonitoringError as error:
            for key, problems in error.fields.items():
                name = key.removeprefix("settings.")
                for problem in problems:
                    form.add_error(name if name in form.fields else None, problem)
        else:
            messages.success(
                request,
                _("%(created)d checks created, %(skipped)d CIs skipped.")
                % {"created": len(result.created), "skipped": len(result.skipped)},
            )
    failed = request.method == "POST" and result is None
    return render(
        request,
        "monitoring/check_bulk.html",
        {"form": form, "result": result},
        status=400 if failed else 200,
    )


@login_required
@permission_required("monitoring.view_monitor", raise_exception=True)
def ci_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The CI page's monitoring card (loaded by HTMX): the CI's checks and host metrics."""
    user = request_user(request)
    ci = get_object_or_404(scoped(ConfigurationItem, user), pk=pk)
    checks = list(scoped(Monitor, user).filter(ci=ci).order_by("name", "pk")[:50])
    ids = [check.pk for check in checks]
    beats = charts.beats(ids)
    series = list(
        scoped(MetricSeries, user)
        .filter(ci=ci, name__in=charts.CI_METRICS)
        .order_by("name", "dimension", "pk")[:40]
    )
    window = request.GET.get("window", "24h")
    if window not in charts.WINDOWS:
        window = "24h"
    points = charts.metric_series(series, window)
    metrics: dict[str, dict[str, Any]] = {}
    series.sort(key=lambda s: (charts.CI_METRICS.index(s.name), s.dimension, s.pk))
    for item in series:
        chart = metrics.setdefault(
            item.name,
            {"title": str(METRIC_TITLES.get(item.name, item.name)), "unit": item.unit, "lines": []},
        )
        chart["lines"].append({"name": item.dimension or item.name, "data": points[item.pk]})
    return render(
        request,
        "monitoring/ci_panel.html",
        {
            "ci": ci,
            "checks": [(check, beats.get(check.pk, [])) for check in checks],
            "metrics": metrics,
            "window": window,
            "windows": list(charts.WINDOWS),
            "can_add": user.has_perm("monitoring.add_monitor") and ci.customer_id is not None,
        },
    )


METRIC_TITLES = {
    "cpu_percent": gettext_lazy("CPU %"),
    "mem_used_percent": gettext_lazy("Memory used %"),
    "disk_used_percent": gettext_lazy("Disk used %"),
    "load1": gettext_lazy("Load (1 min)"),
    "net_rx_bytes_per_s": gettext_lazy("Network in (B/s)"),
    "net_tx_bytes_per_s": gettext_lazy("Network out (B/s)"),
}
