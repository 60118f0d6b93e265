"""Configuration audit pages: the compliance dashboard, "run now", and the findings list."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from opsassure.cmdb.compliance import (
    compliance_summary,
    latest_run_id,
    request_audit,
    rule_display_name,
)
from opsassure.cmdb.filtersets_compliance import AuditFindingFilterSet
from opsassure.cmdb.models import ConfigAuditFinding, ConfigAuditRun, ConfigAuditScore
from opsassure.core.auth import request_user
from opsassure.core.tenancy import scoped
from opsassure.core.ui.generic import ScopedListView


def _when(moment: Any) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


@login_required
@permission_required("cmdb.view_configauditscore", raise_exception=True)
def compliance_dashboard(request: HttpRequest) -> HttpResponse:
    """Overall, per rule, per customer and per type compliance of the latest audit + trend."""
    user = request.user
    summary = compliance_summary(user)
    trend = summary["trend"]
    runs = scoped(ConfigAuditRun, user)  # provider rows: empty for customer users
    last_failed = runs.filter(status=ConfigAuditRun.Status.FAILED).order_by("-started_at").first()
    if last_failed and summary["run"] and last_failed.started_at < summary["run"]["started_at"]:
        last_failed = None  # a later run succeeded: old news
    context = {
        "summary": summary,
        "chart_labels": [
            timezone.localtime(point["started_at"]).strftime("%Y-%m-%d %H:%M") for point in trend
        ],
        "chart_values": [point["compliance"] for point in trend],
        "running": runs.filter(status=ConfigAuditRun.Status.RUNNING)
        .order_by("-started_at")
        .first(),
        "last_failed": last_failed,
        "can_run": user.has_perm("cmdb.add_configauditrun"),
        "can_see_findings": user.has_perm("cmdb.view_configauditfinding"),
    }
    return render(request, "cmdb/compliance.html", context)


@require_POST
@login_required
@permission_required("cmdb.add_configauditrun", raise_exception=True)
def run_audit_now(request: HttpRequest) -> HttpResponse:
    run, created = request_audit(actor=request_user(request))
    if created:
        messages.success(request, _("The audit has started; refresh this page in a moment."))
    else:
        messages.info(
            request,
            _("An audit started at %(time)s is still running.") % {"time": _when(run.started_at)},
        )
    return redirect("cmdb:compliance")


class AuditFindingListView(ScopedListView):
    """Failing CIs of the latest audit (or of ``?run=``), filterable by rule, customer, type."""

    model = ConfigAuditFinding
    permission_required = "cmdb.view_configauditfinding"
    filterset_class = AuditFindingFilterSet
    template_name = "cmdb/audit_findings.html"
    title = gettext_lazy("Configuration audit findings")
    # With the run fixed, (run, rule, ci) is the unique index: sorted pages without a sort step.
    ordering = ["run_id", "rule_id", "ci_id"]
    run_id: int | None = None

    def get_queryset(self) -> QuerySet[Any]:
        queryset = (
            super().get_queryset().select_related("rule", "ci", "ci__ci_type", "ci__customer")
        )
        if self.request.GET.get("run"):
            return queryset
        self.run_id = latest_run_id(self.request.user)
        return queryset.filter(run_id=self.run_id) if self.run_id else queryset.none()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        for finding in context["object_list"]:
            finding.rule_label = rule_display_name(finding.rule.code, finding.rule.name)
        run_id = self.run_id
        if run_id is None:
            raw = self.request.GET.get("run", "")
            run_id = int(raw) if raw.isdigit() else None
        started = (
            scoped(ConfigAuditScore, self.request.user)
            .filter(run_id=run_id)
            .values_list("run__started_at", flat=True)
            .first()
            if run_id
            else None
        )
        context["run_started_at"] = started
        return context
