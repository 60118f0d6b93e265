"""The probe status page: heartbeat age, lag and version of every probe; create a probe (its
token and the command line are shown once), rotate or revoke its token."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opsassure.core.auth import request_user
from opsassure.core.tenancy import scoped
from opsassure.monitoring import charts, services
from opsassure.monitoring.forms import ProbeForm
from opsassure.monitoring.models import Monitor, Probe


def _token_page(request: HttpRequest, probe: Probe, token: str) -> HttpResponse:
    server = request.build_absolute_uri("/").rstrip("/")
    return render(
        request,
        "monitoring/probe_token.html",
        {
            "probe": probe,
            "token": token,
            "command": f"opsassure probe --server {server} --token {token}",
        },
    )


@login_required
@permission_required("monitoring.view_probe", raise_exception=True)
def probe_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = ProbeForm(request.POST or None, user=user)
    if request.method == "POST":
        if not user.has_perm("monitoring.add_probe"):
            return HttpResponse(status=403)
        if form.is_valid():
            try:
                probe, token = services.create_probe(
                    name=form.cleaned_data["name"],
                    zone=form.cleaned_data["zone"],
                    customer=form.cleaned_data["customer"],
                )
            except services.MonitoringError as error:
                for key, problems in error.fields.items():
                    for problem in problems:
                        form.add_error(key if key in form.fields else None, problem)
            else:
                return _token_page(request, probe, token)
    probes = list(scoped(Probe, user).select_related("customer").order_by("-is_local", "name"))
    assigned = dict(
        Monitor.objects.filter(probes__in=probes, enabled=True)
        .values("probes")
        .annotate(n=Count("id"))
        .values_list("probes", "n")
    )
    local_checks = (
        scoped(Monitor, user).filter(enabled=True, probes__isnull=True).count()
        if any(probe.is_local for probe in probes)
        else 0
    )
    now = timezone.now()
    rows: list[dict[str, Any]] = []
    for probe in probes:
        health = charts.probe_health(probe, now)
        health["assigned"] = local_checks if probe.is_local else assigned.get(probe.pk, 0)
        rows.append(health)
    return render(
        request,
        "monitoring/probe_list.html",
        {
            "rows": rows,
            "form": form,
            "can_add": user.has_perm("monitoring.add_probe"),
            "can_change": user.has_perm("monitoring.change_probe"),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@permission_required("monitoring.change_probe", raise_exception=True)
@require_POST
def probe_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    probe = get_object_or_404(scoped(Probe, request.user), pk=pk)
    try:
        token = services.rotate_probe(probe)
    except services.MonitoringError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(reverse("monitoring:probe-list"))
    return _token_page(request, probe, token)


@login_required
@permission_required("monitoring.change_probe", raise_exception=True)
@require_POST
def probe_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    probe = get_object_or_404(scoped(Probe, request.user), pk=pk)
    try:
        if services.revoke_probe(probe):
            messages.success(
                request, _("Probe %s revoked: its token answers 401 from now on.") % probe.name
            )
    except services.MonitoringError as error:
        messages.error(request, error.message)
    return HttpResponseRedirect(reverse("monitoring:probe-list"))
