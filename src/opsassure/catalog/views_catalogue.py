"""Service catalogue and SLA policy pages: the tree per customer, a service, policies.

Views only orchestrate: querysets are scoped to the user, writes are calls of
``catalog.catalogue`` / ``catalog.sla_policies``, and their ValidationError is shown on the
form with a 400 — never a 500.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from opsassure.catalog import builtin, catalogue, policies, queries, sla_policies
from opsassure.catalog.business_time import NoBusinessTimeError
from opsassure.catalog.filtersets import ServiceFilterSet, SlaPolicyFilterSet
from opsassure.catalog.forms_catalogue import PolicyForm, PreviewForm, ServiceForm
from opsassure.catalog.models import Impact, Priority, Service, SlaMetric, SlaPolicy, Urgency
from opsassure.catalog.presentation import format_duration
from opsassure.core.auth import request_user
from opsassure.core.tenancy import is_provider_staff, scoped
from opsassure.core.ui.generic import Column, ScopedDetailView, ScopedListView

TREE_LIMIT = 2000  # a catalogue has tens to hundreds of entries; beyond this, filter


def _missing_years(policy: SlaPolicy) -> list[int]:
    return [
        year
        for year in builtin.default_years()
        if not queries.policy_calendar_covered(policy, year)
    ]


# --- services ------------------------------------------------------------------------------


class ServiceTreeView(ScopedListView):
    """Each customer's catalogue as an indented tree (filters: customer, search, active)."""

    model = Service
    permission_required = "catalog.view_service"
    filterset_class = ServiceFilterSet
    template_name = "catalog/service_tree.html"
    title = gettext_lazy("Service catalogue")
    paginate_by = None  # type: ignore[assignment]
    ordering = ["customer__code", "code", "id"]

    def get_queryset(self) -> QuerySet[Any]:
        return (
            super()
            .get_queryset()
            .select_related("customer", "owner_team", "sla_policy", "service_hours")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        rows = list(self.object_list[: TREE_LIMIT + 1])
        truncated = len(rows) > TREE_LIMIT
        kwargs["object_list"] = rows[:TREE_LIMIT]
        context = super().get_context_data(**kwargs)
        defaults = {
            p.customer_id: p for p in scoped(SlaPolicy, self.request.user).filter(is_default=True)
        }
        nodes = catalogue.tree_rows(rows[:TREE_LIMIT])
        modes = dict(Service.DeliveryMode.choices)
        # Plain values for the template: a catalogue of hundreds of rows renders much faster
        # without per-row attribute lookups and URL reversals in the template engine.
        prefix = reverse("catalog:service-list")
        groups = [
            (
                customer,
                defaults.get(customer.pk),
                [
                    {
                        "depth": node.depth,
                        "url": f"{prefix}{node.service.pk}/",
                        "name": node.service.name,
                        "code": node.service.code,
                        "mode": modes.get(node.service.delivery_mode, ""),
                        "hours": node.service.service_hours.name
                        if node.service.service_hours
                        else "",
                        "policy": node.service.sla_policy.name if node.service.sla_policy else "",
                        "active": node.service.is_active,
                    }
                    for node in items
                ],
            )
            for customer, items in groupby(nodes, key=lambda node: node.service.customer)
        ]
        context.update(
            groups=groups,
            truncated=truncated,
            limit=TREE_LIMIT,
            can_add=self.request.user.has_perm("catalog.add_service"),
        )
        return context


class ServiceDetailView(ScopedDetailView):
    model = Service
    permission_required = "catalog.view_service"
    template_name = "catalog/service_detail.html"

    def get_queryset(self) -> QuerySet[Any]:
        return (
            super()
            .get_queryset()
            .select_related("customer", "parent", "owner_team", "sla_policy", "service_hours")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        service: Service = self.object
        user = request_user(self.request)
        policy = policies.policy_for(service.customer_id, service)
        visible_policy = (
            scoped(SlaPolicy, user).filter(pk=policy.pk).select_related("calendar").first()
            if policy is not None
            else None
        )
        context.update(
            ancestors=catalogue.ancestors(service),
            children=scoped(Service, user).filter(parent=service).order_by("code"),
            policy=visible_policy,
            policy_is_default=visible_policy is not None and service.sla_policy_id is None,
            targets=_target_rows(visible_policy) if visible_policy is not None else [],
            can_change=user.has_perm("catalog.change_service"),
            can_delete=user.has_perm("catalog.delete_service"),
            show_team=is_provider_staff(user),
        )
        return context


def _service_form(request: HttpRequest, service: Service) -> HttpResponse:
    user = request_user(request)
    creating = service.pk is None
    initial: dict[str, Any] = {}
    if creating:
        if user.customer_id is not None:
            initial["customer"] = user.customer_id
        elif request.GET.get("customer", "").isdigit():
            initial["customer"] = int(request.GET["customer"])
        if request.GET.get("parent", "").isdigit():
            initial["parent"] = int(request.GET["parent"])
    form = ServiceForm(request.POST or None, instance=service, user=user, initial=initial)
    context = {"form": form, "creating": creating, "service": service}
    if request.method != "POST":
        return render(request, "catalog/service_form.html", context)
    if form.is_valid():
        values = form.service_values()
        try:
            if creating:
                saved = catalogue.create_service(
                    customer=form.cleaned_data["customer"],
                    code=values.pop("code"),
                    name=values.pop("name"),
                    **values,
                )
            else:
                saved = catalogue.update_service(service, **values)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(
                request,
                (_("Service %(name)s created.") if creating else _("Service %(name)s saved."))
                % {"name": saved.name},
            )
            return redirect(saved)
    return render(request, "catalog/service_form.html", context, status=400)


@login_required
@permission_required("catalog.add_service", raise_exception=True)
def service_create(request: HttpRequest) -> HttpResponse:
    return _service_form(request, Service())


@login_required
@permission_required("catalog.change_service", raise_exception=True)
def service_edit(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(scoped(Service, request_user(request)), pk=pk)
    return _service_form(request, service)


@login_required
@permission_required("catalog.delete_service", raise_exception=True)
@require_POST
def service_delete(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(scoped(Service, request_user(request)), pk=pk)
    try:
        catalogue.delete_service(service)
    except catalogue.ServiceInUseError as error:
        messages.error(request, str(error))
        return redirect(service)
    messages.success(request, _("Service %(name)s deleted.") % {"name": service.name})
    return redirect("catalog:service-list")


# --- SLA policies --------------------------------------------------------------------------


class YesNoColumn(Column):
    def value(self, obj: Any) -> Any:
        return _("yes") if getattr(obj, self.attr) else _("no")


class CalendarDataColumn(Column):
    def value(self, obj: Any) -> Any:
        missing = _missing_years(obj)
        if not missing:
            return _("complete")
        return _("missing %(years)s — plain weekdays") % {"years": ", ".join(map(str, missing))}


class PolicyListView(ScopedListView):
    model = SlaPolicy
    permission_required = "catalog.view_slapolicy"
    filterset_class = SlaPolicyFilterSet
    template_name = "catalog/policy_list.html"
    title = gettext_lazy("SLA policies")
    ordering = ["customer__code", "code", "id"]
    columns = [
        Column("code", gettext_lazy("Code"), link=True),
        Column("name", gettext_lazy("Name")),
        Column("customer", gettext_lazy("Customer")),
        Column("calendar", gettext_lazy("Service calendar")),
        YesNoColumn("is_default", gettext_lazy("Customer default")),
        YesNoColumn("is_active", gettext_lazy("Active")),
        CalendarDataColumn("pk", gettext_lazy("Holiday data")),
    ]

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset().select_related("customer", "calendar")
        return queries.with_policy_calendar_coverage(queryset, builtin.default_years())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_add"] = self.request.user.has_perm("catalog.add_slapolicy")
        return context


def _target_rows(policy: SlaPolicy) -> list[dict[str, Any]]:
    targets = {t.priority: t for t in policy.targets.all()}
    return [
        {
            "priority": priority,
            "label": label,
            "response": format_duration(targets[priority].response_minutes)
            if priority in targets
            else "",
            "arrival": format_duration(targets[priority].arrival_minutes)
            if priority in targets
            else "",
            "resolution": format_duration(targets[priority].resolution_minutes)
            if priority in targets
            else "",
        }
        for priority, label in Priority.choices
    ]


class PolicyDetailView(ScopedDetailView):
    model = SlaPolicy
    permission_required = "catalog.view_slapolicy"
    template_name = "catalog/policy_detail.html"

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("customer", "calendar")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        policy: SlaPolicy = self.object
        user = request_user(self.request)
        cells = {(c.impact, c.urgency): c.priority for c in policy.matrix.all()}
        matrix = [
            (
                impact_label,
                [cells.get((impact, urgency)) for urgency in Urgency.values],
            )
            for impact, impact_label in Impact.choices
        ]
        staff = is_provider_staff(user)
        ola = (
            [
                {
                    "team": row.team,
                    "priority": row.priority,
                    "response": format_duration(row.response_minutes),
                    "resolution": format_duration(row.resolution_minutes),
                }
                for row in policy.ola_targets.select_related("team").order_by(
                    "team__code", "priority"
                )
            ]
            if staff
            else []
        )
        services = (
            scoped(Service, user)
            .filter(sla_policy=policy)
            .order_by("code")
            .annotate(children_count=Count("children"))
        )
        context.update(
            matrix=matrix,
            urgency_labels=[label for _value, label in Urgency.choices],
            targets=_target_rows(policy),
            ola=ola,
            show_ola=staff,
            services=services,
            missing_years=_missing_years(policy),
            can_change=user.has_perm("catalog.change_slapolicy"),
            can_delete=user.has_perm("catalog.delete_slapolicy"),
            **self._preview(policy),
        )
        return context

    def _preview(self, policy: SlaPolicy) -> dict[str, Any]:
        engine = queries.business_calendar(policy.calendar)
        if "priority" not in self.request.GET:
            initial = {"start": f"{timezone.now().astimezone(engine.zone):%Y-%m-%dT%H:%M}"}
            return {"preview_form": PreviewForm(zone=engine.zone, initial=initial), "preview": None}
        form = PreviewForm(self.request.GET, zone=engine.zone)
        result = None
        if form.is_valid():
            try:
                result = sla_policies.preview(
                    policy, start=form.cleaned_data["start"], priority=form.cleaned_data["priority"]
                )
            except NoBusinessTimeError:
                form.add_error(None, _("The policy's calendar has no working time."))
        if result is None:
            return {"preview_form": form, "preview": None}
        labels = dict(SlaMetric.choices)

        def local(instant: Any) -> str:
            # Formatted here: templates would convert an aware datetime to the viewer's zone.
            return f"{instant.astimezone(engine.zone):%Y-%m-%d %H:%M}"

        rows = [
            {
                "metric": labels[item.metric],
                "target": format_duration(item.minutes),
                "due": local(item.due_at),
                "due_user": f"{timezone.localtime(item.due_at):%Y-%m-%d %H:%M %Z}",
                "first": local(item.first_warning_at),
                "second": local(item.second_warning_at),
            }
            for item in result.due
        ]
        return {
            "preview_form": form,
            "preview": {"rows": rows, "warnings": result.warnings, "zone": engine.zone.key},
        }


def _policy_form(request: HttpRequest, policy: SlaPolicy) -> HttpResponse:
    user = request_user(request)
    creating = policy.pk is None
    initial: dict[str, Any] = {}
    if creating:
        if user.customer_id is not None:
            initial["customer"] = user.customer_id
        elif request.GET.get("customer", "").isdigit():
            initial["customer"] = int(request.GET["customer"])
        initial.update(warn_percent_first=75, warn_percent_second=90, is_active=True)
    form = PolicyForm(request.POST or None, instance=policy, user=user, initial=initial)
    context = {"form": form, "creating": creating, "policy": policy}
    if request.method != "POST":
        return render(request, "catalog/policy_form.html", context)
    if form.is_valid():
        values = form.policy_values()
        try:
            if creating:
                values.pop("customer", None)
                saved = sla_policies.create_policy(
                    customer=form.cleaned_data["customer"],
                    code=values.pop("code"),
                    name=values.pop("name"),
                    calendar=values.pop("calendar"),
                    matrix=form.matrix(),
                    targets=form.targets(),
                    ola_targets=form.ola_targets() or (),
                    **values,
                )
            else:
                saved = sla_policies.update_policy(
                    policy,
                    matrix=form.matrix(),
                    targets=form.targets(),
                    ola_targets=form.ola_targets(),
                    **values,
                )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(
                request,
                (_("SLA policy %(name)s created.") if creating else _("SLA policy %(name)s saved."))
                % {"name": saved.name},
            )
            return redirect(saved)
    return render(request, "catalog/policy_form.html", context, status=400)


@login_required
@permission_required("catalog.add_slapolicy", raise_exception=True)
def policy_create(request: HttpRequest) -> HttpResponse:
    return _policy_form(request, SlaPolicy())


@login_required
@permission_required("catalog.change_slapolicy", raise_exception=True)
def policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(scoped(SlaPolicy, request_user(request)), pk=pk)
    return _policy_form(request, policy)


@login_required
@permission_required("catalog.delete_slapolicy", raise_exception=True)
@require_POST
def policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(scoped(SlaPolicy, request_user(request)), pk=pk)
    try:
        sla_policies.delete_policy(policy)
    except sla_policies.PolicyInUseError as error:
        messages.error(request, str(error))
        return redirect(policy)
    messages.success(request, _("SLA policy %(name)s deleted.") % {"name": policy.name})
    return redirect("catalog:policy-list")
