"""Metrics pages: threshold rules (list, create, edit, delete), agents, agent tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from opsassure.core.auth import request_user
from opsassure.core.tenancy import scoped
from opsassure.core.ui.generic import Column, ScopedListView
from opsassure.monitoring import rules, tokens
from opsassure.monitoring.forms_metrics import AgentTokenForm, RuleForm
from opsassure.monitoring.models import Agent, AgentToken, ThresholdRule


class RuleListView(ScopedListView):
    model = ThresholdRule
    permission_required = "monitoring.view_thresholdrule"
    title = gettext_lazy("Threshold rules")
    ordering = ["name", "id"]
    template_name = "monitoring/metrics/rule_list.html"

    def get_queryset(self) -> QuerySet[Any]:
        return (
            super()
            .get_queryset()
            .select_related("customer", "ci", "ci_type", "tag")
            .annotate(
                firing=Count("states", filter=Q(states__state="firing")),
                pending=Count("states", filter=Q(states__state="pending")),
            )
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["can_add"] = user.has_perm("monitoring.add_thresholdrule")
        context["can_change"] = user.has_perm("monitoring.change_thresholdrule")
        return context


def _rule_page(
    request: HttpRequest, form: RuleForm, title: str, rule: ThresholdRule | None
) -> HttpResponse:
    # After a POST this is a refusal (nothing was written): 400, like every form page.
    status = 400 if request.method == "POST" else 200
    context = {
        "form": form,
        "title": title,
        "rule": rule,
        "known_metrics": rules.KNOWN_METRICS.items(),
        "can_delete": rule is not None and request.user.has_perm("monitoring.delete_thresholdrule"),
    }
    return render(request, "monitoring/metrics/rule_form.html", context, status=status)


@login_required
@permission_required("monitoring.add_thresholdrule", raise_exception=True)
def rule_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = RuleForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            rule = rules.create_rule(**form.values())
        except rules.RuleError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Rule %(name)s created.") % {"name": rule.name})
            return HttpResponseRedirect(reverse("monitoring:rules"))
    return _rule_page(request, form, _("New threshold rule"), None)


@login_required
@permission_required("monitoring.change_thresholdrule", raise_exception=True)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    rule = get_object_or_404(scoped(ThresholdRule, user), pk=pk)
    form = RuleForm(request.POST or None, user=user, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            rules.update_rule(rule, **form.values())
        except rules.RuleError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Rule %(name)s saved.") % {"name": rule.name})
            return HttpResponseRedirect(reverse("monitoring:rules"))
    return _rule_page(request, form, _("Edit threshold rule"), rule)


@login_required
@permission_required("monitoring.delete_thresholdrule", raise_exception=True)
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(scoped(ThresholdRule, request.user), pk=pk)
    rules.delete_rule(rule)
    messages.success(request, _("Rule deleted; its alerts are resolved."))
    return HttpResponseRedirect(reverse("monitoring:rules"))


class AgentListView(ScopedListView):
    model = Agent
    permission_required = "monitoring.view_agent"
    title = gettext_lazy("Agents")
    ordering = ["hostname", "id"]
    template_name = "monitoring/metrics/agent_list.html"
    columns = [
        Column("hostname", gettext_lazy("Host name")),
        Column("customer", gettext_lazy("Customer")),
        Column("ci", gettext_lazy("Configuration item")),
        Column("version", gettext_lazy("Agent version")),
        Column("interval_seconds", gettext_lazy("Interval (s)")),
        Column("last_seen_at", gettext_lazy("Last seen")),
    ]

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("customer", "ci")


@login_required
@permission_required("monitoring.view_agenttoken", raise_exception=True)
def agent_tokens(request: HttpRequest) -> HttpResponse:
    """The customer's agent tokens; creating one shows it once, with the command to run."""
    user = request_user(request)
    can_add = user.has_perm("monitoring.add_agenttoken")
    form = AgentTokenForm(request.POST or None, user=user) if can_add else None
    issued: str | None = None
    status = 200
    if request.method == "POST":
        if form is None:
            return HttpResponse(status=403)
        if form.is_valid():
            _row, issued = tokens.create_agent_token(
                customer=form.cleaned_data["customer"], name=form.cleaned_data["name"]
            )
            form = AgentTokenForm(user=user)
        else:
            status = 400
    rows = (
        scoped(AgentToken, user)
        .select_related("customer")
        .annotate(agent_count=Count("agents"))
        .order_by("customer__name", "name", "id")[:500]
    )
    server = request.build_absolute_uri("/").rstrip("/")
    context = {
        "title": _("Agent tokens"),
        "form": form,
        "issued": issued,
        "server": server,
        "rows": rows,
        "can_change": user.has_perm("monitoring.change_agenttoken"),
    }
    return render(request, "monitoring/metrics/agent_tokens.html", context, status=status)


@login_required
@permission_required("monitoring.change_agenttoken", raise_exception=True)
@require_POST
def agent_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(scoped(AgentToken, request.user), pk=pk)
    if tokens.revoke(row):
        messages.success(request, _("Revoked: agents using this token get 401 from now on."))
    return HttpResponseRedirect(reverse("monitoring:agent-tokens"))
