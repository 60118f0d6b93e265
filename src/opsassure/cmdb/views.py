"""CMDB pages: the CI list with bulk edit, the CI page, create/edit forms, CI types.

Views only orchestrate: every queryset is scoped to the user, every write is a cmdb.services
call, and a service's ValidationError is shown on the page (4xx), never a 500.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, OrderBy, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from opsassure.cmdb import presenters, queries, services
from opsassure.cmdb.filtersets import CIFilterSet
from opsassure.cmdb.forms import (
    BulkEditForm,
    CIForm,
    RelationForm,
    flag_errors,
    relation_candidates,
)
from opsassure.cmdb.models import (
    IMPACT_DIRECTION,
    CIType,
    ConfigurationItem,
    Lifecycle,
    Relation,
    RelationType,
)
from opsassure.core.auth import request_user
from opsassure.core.models import Customer
from opsassure.core.tenancy import is_provider_staff, scoped
from opsassure.core.ui.generic import ScopedDetailView, ScopedListView
from opsassure.core.ui.panels import ci_panels_for

HISTORY_PAGE = 25
TARGET_LIMIT = 20
WARRANTY_WARNING_DAYS = 30
EXPIRING_DAYS = 90
COUNT_CAP = 10_000
BULK_LIMIT = 1000

# sort key in the URL -> ORDER BY (always ending in unique columns for stable pages)
SORTS: dict[str, list[str]] = {
    "name": ["name", "id"],
    "type": ["ci_type", "name", "id"],  # the (ci_type, name) index; types grouped, not by label
    "status": ["status", "name", "id"],
    "criticality": ["criticality", "name", "id"],
    "warranty_end": ["warranty_end", "name", "id"],
}
# Columns that may be empty: rows without a value go last in both directions.
NULLABLE_SORTS = {"warranty_end"}
SORT_HEADERS = [
    ("name", gettext_lazy("Name")),
    ("type", gettext_lazy("Type")),
    ("status", gettext_lazy("Status")),
    ("criticality", gettext_lazy("Criticality")),
    ("warranty_end", gettext_lazy("Warranty end")),
]


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _ordering(sort: str) -> list[str | OrderBy]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    ordering: list[str | OrderBy] = []
    for column in SORTS.get(key, SORTS["name"]):
        if column in NULLABLE_SORTS:
            # Rows without a value last, spelled so that the index
            # ``(column IS NULL, column, name, id)`` serves it on SQLite and PostgreSQL.
            is_null = ExpressionWrapper(Q(**{f"{column}__isnull": True}), BooleanField())
            ordering.append(is_null.asc())
            ordering.append(f"-{column}" if descending else column)
        else:
            ordering.append(f"-{column}" if descending else column)
    return ordering


class CappedPage(Page[Any]):
    more = False

    def has_next(self) -> bool:
        paginator = cast(CappedPaginator, self.paginator)
        return self.more if paginator.capped else super().has_next()

    def end_index(self) -> int:
        return self.start_index() + len(self.object_list) - 1


class CappedPaginator(Paginator[Any]):
    """Counts at most ``cap`` rows: an exact COUNT(*) over millions of CIs would make every
    list page slow. Past the cap the footer says "more than 10000", and "next" is known by
    reading one row more than the page."""

    cap = COUNT_CAP
    capped = False

    @cached_property
    def count(self) -> int:
        rows = cast(QuerySet[Any], self.object_list)
        counted = int(rows[: self.cap + 1].count())
        self.capped = counted > self.cap
        return min(counted, self.cap)

    def validate_number(self, number: Any) -> int:
        if self.count < self.cap or not self.capped:
            return super().validate_number(number)
        try:
            value = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from error
        if value < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return value

    def page(self, number: Any) -> CappedPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if not self.capped:
            top = min(bottom + self.per_page, self.count)
            return CappedPage(self.object_list[bottom:top], number, self)
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        page = CappedPage(rows[: self.per_page], number, self)
        page.more = len(rows) > self.per_page
        return page


class CIListView(ScopedListView):
    """The CI table: every filter and the sort live in the URL (a GET form)."""

    model = ConfigurationItem
    permission_required = "cmdb.view_configurationitem"
    filterset_class = CIFilterSet
    template_name = "cmdb/ci_list.html"
    title = gettext_lazy("Configuration items")
    paginate_by = 50
    paginator_class = CappedPaginator

    def get_paginate_by(self, queryset: Any) -> int:
        try:
            size = int(self.request.GET.get("page_size", self.paginate_by))
        except ValueError:
            size = self.paginate_by
        return max(10, min(size, 500))

    def get_queryset(self) -> QuerySet[Any]:
        self.sort = self.request.GET.get("sort", "name")
        if self.sort.lstrip("-") not in SORTS:
            self.sort = "name"
        queryset = super().get_queryset()
        return queryset.select_related("customer", "ci_type", "owner_team").order_by(
            *_ordering(self.sort)
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        for field in self.filterset.form.fields.values():
            css = "form-select" if hasattr(field.widget, "choices") else "form-control"
            field.widget.attrs.setdefault("class", css)
            if isinstance(field, forms.ModelChoiceField):
                field.empty_label = _("All")
            elif (
                isinstance(field, forms.ChoiceField)
                and hasattr(field, "empty_label")
                and not field.widget.allow_multiple_selected
            ):
                # django-filter adds the empty choice itself when the choices are set.
                choices: list[Any] = list(cast(Any, field.choices))
                field.empty_label = _("All")
                field.choices = [c for c in choices if c[0] != ""]
        query = self.request.GET.copy()
        query.pop("page", None)
        sort_query = query.copy()
        sort_query.pop("sort", None)
        headers = {}
        for key, label in SORT_HEADERS:
            active = self.sort.lstrip("-") == key
            descending = self.sort.startswith("-")
            next_sort = f"-{key}" if active and not descending else key
            sort_query["sort"] = next_sort
            headers[key] = {
                "label": label,
                "url": "?" + sort_query.urlencode(),
                "active": active,
                "descending": active and descending,
            }
        today = timezone.localdate()
        for ci in context["object_list"]:
            presenters.decorate(ci)
        context.update(
            cis=context["object_list"],
            headers=headers,
            today=today,
            warranty_soon=today + dt.timedelta(days=WARRANTY_WARNING_DAYS),
            staff=is_provider_staff(user),
            show_customer=is_provider_staff(user) and not self.request.GET.get("customer"),
            can_change=user.has_perm("cmdb.change_configurationitem"),
            can_add=user.has_perm("cmdb.add_configurationitem"),
            bulk_form=BulkEditForm(user=request_user(self.request))
            if user.has_perm("cmdb.change_configurationitem")
            else None,
            full_querystring=query.urlencode(),
            selected_statuses=self.request.GET.getlist("status"),
        )
        return context


@login_required
@permission_required("cmdb.view_configurationitem", raise_exception=True)
def expiring_warranties(request: HttpRequest) -> HttpResponse:
    """The CI list pre-filtered on warranties/contracts ending within 90 days."""
    query = urlencode({"warranty_ends_within": EXPIRING_DAYS, "sort": "warranty_end"})
    return HttpResponseRedirect(f"{reverse('cmdb:ci-list')}?{query}")


@login_required
@permission_required("cmdb.change_configurationitem", raise_exception=True)
@require_POST
def bulk_edit(request: HttpRequest) -> HttpResponse:
    """Apply one change to the selected CIs, all or nothing; show every problem otherwise."""
    user = request_user(request)
    # Re-encoded: only a query string goes back into the Location header.
    back = f"{reverse('cmdb:ci-list')}?{QueryDict(request.POST.get('querystring', '')).urlencode()}"
    try:
        ids = sorted({int(value) for value in request.POST.getlist("ids")})
    except ValueError:
        ids = []
    form = BulkEditForm(request.POST, user=user)
    problems: list[tuple[str, list[str]]] = []
    if not ids:
        problems.append(("", [_("Select at least one CI.")]))
    elif len(ids) > BULK_LIMIT:
        problems.append(("", [_("At most %(n)d CIs at once.") % {"n": BULK_LIMIT}]))
        ids = []
    elif not form.is_valid():
        problems.extend(
            (str(form[name].label) if name in form.fields else "", [str(e) for e in errors])
            for name, errors in form.errors.items()
        )
    cis = list(scoped(ConfigurationItem, user).filter(pk__in=ids).order_by("name", "id"))
    if len(cis) != len(ids):
        raise Http404
    if not problems and form.cleaned_data.get("status"):
        # Every refused move is listed, not only the first one the service meets.
        for ci in cis:
            try:
                services.check_transition(ci, form.cleaned_data["status"])
            except ValidationError as error:
                problems.append((ci.name, error.messages))
    if not problems:
        data = form.cleaned_data
        try:
            with transaction.atomic():
                count = services.bulk_update(
                    cis,
                    actor=user,
                    status=data.get("status") or None,
                    owner_team=data.get("owner_team"),
                    add_tags=data["add_tags"],
                    remove_tags=data["remove_tags"],
                )
        except ValidationError as error:
            problems.extend(
                error.message_dict.items()
                if hasattr(error, "error_dict")
                else [("", error.messages)]
            )
        else:
            messages.success(
                request,
                ngettext("%(count)d CI updated.", "%(count)d CIs updated.", count)
                % {"count": count},
            )
            return HttpResponseRedirect(back)
    return render(
        request,
        "cmdb/bulk_errors.html",
        {"problems": problems, "cis": cis, "back": back},
        status=400,
    )


class CIDetailView(ScopedDetailView):
    model = ConfigurationItem
    permission_required = "cmdb.view_configurationitem"
    template_name = "cmdb/ci_detail.html"

    def get_queryset(self) -> QuerySet[Any]:
        return (
            super()
            .get_queryset()
            .select_related(
                "customer",
                "ci_type",
                "owner_team",
                "location__parent",
                "supplier",
                "maintenance_contract__supplier",
            )
            .prefetch_related("addresses", "tags")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(detail_context(self.request, self.object))
        return context


def detail_context(request: HttpRequest, ci: ConfigurationItem) -> dict[str, Any]:
    user = request_user(request)
    presenters.decorate(ci)
    services_hit = queries.impact(
        ci, user, depth=queries.MAX_DEPTH, direction="downstream"
    ).affected_services
    history_page = Paginator(queries.history(ci), HISTORY_PAGE).get_page(1)
    today = timezone.localdate()
    return {
        "ci": ci,
        "attribute_rows": presenters.attribute_rows(ci.ci_type, ci.attributes),
        "affected_services": sorted(services_hit, key=lambda node: node["name"]),
        "type_names": {t.code: str(t) for t in CIType.objects.all()},
        "relation_labels": dict(RelationType.choices),
        "impact_directions": {str(k): v for k, v in IMPACT_DIRECTION.items()},
        "status_labels": {value: str(label) for value, label in Lifecycle.choices},
        "depths": range(1, 6),
        "history": presenters.timeline(history_page.object_list, ci.ci_type, user),
        "history_page": history_page,
        "today": today,
        "warranty_soon": today + dt.timedelta(days=WARRANTY_WARNING_DAYS),
        "now_local": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "extra_panels": ci_panels_for(user),
        **relations_context(request, ci),
    }


def relations_context(
    request: HttpRequest, ci: ConfigurationItem, form: RelationForm | None = None
) -> dict[str, Any]:
    user = request_user(request)
    visible = scoped(ConfigurationItem, user)
    relations = scoped(Relation, user).select_related(
        "source__ci_type", "source__customer", "target__ci_type", "target__customer"
    )
    outgoing = relations.filter(source=ci, target__in=visible).order_by(
        "relation_type", "target__name", "id"
    )
    incoming = relations.filter(target=ci, source__in=visible).order_by(
        "relation_type", "source__name", "id"
    )
    can_add = user.has_perm("cmdb.add_relation")
    if form is None and can_add:
        form = RelationForm(ci=ci, user=user)
    return {
        "ci": ci,
        "outgoing": list(outgoing),
        "incoming": list(incoming),
        "relation_form": form,
        "can_add_relation": can_add,
        "can_delete_relation": user.has_perm("cmdb.delete_relation"),
    }


def _visible_ci(request: HttpRequest, pk: int) -> ConfigurationItem:
    queryset = scoped(ConfigurationItem, request_user(request)).select_related(
        "ci_type", "customer"
    )
    ci: ConfigurationItem = get_object_or_404(queryset, pk=pk)
    return ci


def _relations_response(
    request: HttpRequest, ci: ConfigurationItem, form: RelationForm | None = None, status: int = 200
) -> HttpResponse:
    if _is_htmx(request):
        return render(
            request, "cmdb/_relations.html", relations_context(request, ci, form), status=status
        )
    if status >= 400:
        context = detail_context(request, ci)
        context.update(relations_context(request, ci, form))
        context["object"] = ci
        return render(request, "cmdb/ci_detail.html", context, status=status)
    return redirect(f"{ci.get_absolute_url()}#relations")


@login_required
@permission_required("cmdb.view_relation", raise_exception=True)
def relations(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the relations card. POST: add a relation through services.add_relation."""
    ci = _visible_ci(request, pk)
    if request.method != "POST":
        return _relations_response(request, ci)
    user = request_user(request)
    if not user.has_perm("cmdb.add_relation"):
        raise PermissionDenied
    form = RelationForm(request.POST, ci=ci, user=user)
    if not form.is_valid():
        return _relations_response(request, ci, form, status=400)
    other = form.cleaned_data["other"]
    outgoing = form.cleaned_data["direction"] == "outgoing"
    try:
        with transaction.atomic():
            services.add_relation(
                actor=user,
                source=ci if outgoing else other,
                target=other if outgoing else ci,
                relation_type=form.cleaned_data["relation_type"],
                note=form.cleaned_data["note"],
            )
    except ValidationError as error:
        for message in error.messages:
            form.add_error(None, message)
        return _relations_response(request, ci, form, status=400)
    if not _is_htmx(request):
        messages.success(request, _("Relation added."))
    return _relations_response(
        request, ci, RelationForm(ci=ci, user=user) if _is_htmx(request) else None
    )


@login_required
@permission_required("cmdb.delete_relation", raise_exception=True)
@require_POST
def relation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a relation; the page it came from is the CI named in ``ci`` (else the source)."""
    user = request_user(request)
    relation = get_object_or_404(scoped(Relation, user).select_related("source", "target"), pk=pk)
    try:
        shown_id = int(request.POST.get("ci", relation.source_id))
    except ValueError:
        shown_id = relation.source_id
    if shown_id not in (relation.source_id, relation.target_id):
        shown_id = relation.source_id
    ci = _visible_ci(request, shown_id)
    with transaction.atomic():
        services.remove_relation(relation, actor=user)
    if not _is_htmx(request):
        messages.success(request, _("Relation removed."))
    return _relations_response(request, ci)


@login_required
@permission_required("cmdb.add_relation", raise_exception=True)
@require_GET
def relation_targets(request: HttpRequest, pk: int) -> HttpResponse:
    """<option>s for the relation picker: visible CIs of the same customer or shared ones."""
    ci = _visible_ci(request, pk)
    candidates = relation_candidates(ci, request_user(request)).select_related(
        "ci_type", "customer"
    )
    query = request.GET.get("q", "").strip()
    chosen = request.GET.get("other", "")
    # The option already chosen stays chosen when a later search answer replaces the list.
    selected = candidates.filter(pk=int(chosen)).first() if chosen.isdigit() else None
    if query:
        candidates = CIFilterSet({"q": query}, queryset=candidates, request=request).qs
    found = list(candidates.order_by("name", "id")[: TARGET_LIMIT + 1])
    more = len(found) > TARGET_LIMIT
    found = found[:TARGET_LIMIT]
    if selected is not None and selected not in found:
        found.insert(0, selected)
    return render(
        request,
        "cmdb/_relation_targets.html",
        {"targets": found, "more": more, "query": query, "selected": selected},
    )


@login_required
@permission_required("cmdb.view_cichange", raise_exception=True)
@require_GET
def history(request: HttpRequest, pk: int) -> HttpResponse:
    """One page of the CI timeline (appended below the previous one by HTMX)."""
    ci = _visible_ci(request, pk)
    page = Paginator(queries.history(ci), HISTORY_PAGE).get_page(request.GET.get("page", 1))
    context = {
        "ci": ci,
        "history": presenters.timeline(page.object_list, ci.ci_type, request_user(request)),
        "history_page": page,
    }
    return render(request, "cmdb/_history.html", context)


@login_required
@permission_required("cmdb.view_cichange", raise_exception=True)
@require_GET
def as_of(request: HttpRequest, pk: int) -> HttpResponse:
    """The CI as it was at a past moment (HTMX panel, or a page of its own)."""
    ci = _visible_ci(request, pk)
    raw = request.GET.get("at", "").strip()
    moment = parse_datetime(raw) if raw else None
    context: dict[str, Any] = {"ci": ci, "at": raw}
    status = 200
    if moment is None:
        context["error"] = _("Enter a date and time.")
        status = 400
    else:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, timezone.get_current_timezone())
        context["moment"] = moment
        state = queries.ci_as_of(ci, moment)
        if state is None:
            context["error"] = _("The CI did not exist at that time.")
        else:
            context["state"] = presenters.past_state(ci, state, request_user(request))
    template = "cmdb/_as_of.html" if _is_htmx(request) else "cmdb/ci_as_of.html"
    return render(request, template, context, status=status)


def _form_context(form: CIForm, ci: ConfigurationItem | None) -> dict[str, Any]:
    flag_errors(form)
    return {"form": form, "ci": ci, "object": ci}


@login_required
@permission_required("cmdb.add_configurationitem", raise_exception=True)
def ci_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if request.method == "POST":
        form = CIForm(request.POST, user=user)
        if form.is_valid():
            values = form.service_values()
            customer: Customer | None = form.cleaned_data.get("customer")
            try:
                with transaction.atomic():
                    ci = services.create_ci(
                        actor=user,
                        customer_id=customer.pk if customer else None,
                        name=values.pop("name"),
                        source="ui",
                        **values,
                    )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("CI created."))
                return redirect(ci.get_absolute_url())
        return render(request, "cmdb/ci_form.html", _form_context(form, None), status=400)
    initial: dict[str, Any] = {}
    if user.customer_id is not None:
        initial["customer"] = user.customer_id
    elif request.GET.get("customer", "").isdigit():
        initial["customer"] = int(request.GET["customer"])
    ci_type = CIType.objects.filter(code=request.GET.get("type", "")).first()
    if ci_type is not None:
        initial["ci_type"] = ci_type.pk
    form = CIForm(user=user, initial=initial, ci_type=ci_type)
    return render(request, "cmdb/ci_form.html", _form_context(form, None))


@login_required
@permission_required("cmdb.change_configurationitem", raise_exception=True)
def ci_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    ci = get_object_or_404(
        scoped(ConfigurationItem, user)
        .select_related("ci_type", "customer")
        .prefetch_related("addresses", "tags"),
        pk=pk,
    )
    if request.method == "POST":
        form = CIForm(request.POST, user=user, instance=ci)
        if form.is_valid():
            values = form.service_values()
            try:
                with transaction.atomic():
                    services.update_ci(ci, actor=user, source="ui", **values)
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("CI saved."))
                return redirect(ci.get_absolute_url())
        return render(request, "cmdb/ci_form.html", _form_context(form, ci), status=400)
    form = CIForm(user=user, instance=ci)
    return render(request, "cmdb/ci_form.html", _form_context(form, ci))


@login_required
@require_GET
def attribute_fields(request: HttpRequest) -> HttpResponse:
    """The attribute inputs of a type (HTMX swap when the type select changes)."""
    user = request_user(request)
    if not (
        user.has_perm("cmdb.add_configurationitem")
        or user.has_perm("cmdb.change_configurationitem")
    ):
        raise PermissionDenied
    ci = None
    if request.GET.get("ci", "").isdigit():
        ci = _visible_ci(request, int(request.GET["ci"]))
    ci_type = None
    if request.GET.get("ci_type", "").isdigit():
        ci_type = CIType.objects.filter(pk=int(request.GET["ci_type"])).first()
    # With a CI, the values of attributes its current type shares with the new one are kept.
    form = CIForm(user=user, instance=ci, ci_type=ci_type)
    return render(request, "cmdb/_attribute_fields.html", {"form": form})
