"""Administration pages: customers, teams, users, the audit trail, the user's own profile."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from opsassure.core import audit, services
from opsassure.core.auth import request_user
from opsassure.core.filtersets import AuditEventFilterSet, CustomerFilterSet, UserFilterSet
from opsassure.core.forms import ProfileForm, TokenForm
from opsassure.core.models import ApiToken, AuditEvent, Customer, Team, User
from opsassure.core.tenancy import scoped
from opsassure.core.ui.generic import Column, ScopedDetailView, ScopedListView

EXPORT_ROW_LIMIT = 200_000


class CustomerListView(ScopedListView):
    model = Customer
    permission_required = "core.view_customer"
    filterset_class = CustomerFilterSet
    ordering = ["code"]
    columns = [
        Column("code", gettext_lazy("Code"), link=True),
        Column("name", gettext_lazy("Name")),
        Column("industry", gettext_lazy("Industry")),
        Column("status", gettext_lazy("Status")),
    ]


class CustomerDetailView(ScopedDetailView):
    model = Customer
    permission_required = "core.view_customer"
    template_name = "core/customer_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        customer = self.object
        context["contacts"] = customer.contacts.order_by("-is_primary", "name")
        context["teams"] = scoped(Team, self.request.user).filter(customers=customer)
        context["users"] = scoped(User, self.request.user).filter(customer=customer)
        return context


class TeamListView(ScopedListView):
    model = Team
    permission_required = "core.view_team"
    ordering = ["code"]
    columns = [
        Column("code", gettext_lazy("Code"), link=True),
        Column("name", gettext_lazy("Name")),
        Column("lead", gettext_lazy("Team lead")),
        Column("member_count", gettext_lazy("Members")),
    ]

    def get_queryset(self) -> QuerySet[Any]:
        return (
            super()
            .get_queryset()
            .select_related("lead")
            .annotate(member_count=Count("members", distinct=True))
        )


class TeamDetailView(ScopedDetailView):
    model = Team
    permission_required = "core.view_team"
    template_name = "core/team_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["members"] = self.object.members.order_by("username")
        context["customers"] = scoped(Customer, self.request.user).filter(teams=self.object)
        return context


class UserListView(ScopedListView):
    model = User
    permission_required = "core.view_user"
    filterset_class = UserFilterSet
    ordering = ["username"]
    columns = [
        Column("username", gettext_lazy("Username"), link=True),
        Column("display_name", gettext_lazy("Name")),
        Column("customer", gettext_lazy("Customer")),
        Column("role_names", gettext_lazy("Roles")),
    ]

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("customer").prefetch_related("groups")


class UserDetailView(ScopedDetailView):
    model = User
    permission_required = "core.view_user"
    template_name = "core/user_detail.html"


class AuditListView(ScopedListView):
    model = AuditEvent
    permission_required = "core.view_auditevent"
    filterset_class = AuditEventFilterSet
    ordering = ["-seq"]
    template_name = "core/audit_list.html"
    export_url_name = "core:audit-export"
    columns = [
        Column("seq", "#"),
        Column("occurred_at", gettext_lazy("Time")),
        Column("action", gettext_lazy("Action")),
        Column("actor_username", gettext_lazy("Actor")),
        Column("object_type", gettext_lazy("Object type")),
        Column("object_repr", gettext_lazy("Object")),
        Column("ip", gettext_lazy("IP address")),
    ]


def _audit_rows(events: QuerySet[AuditEvent]) -> Any:
    zone = timezone.get_current_timezone()
    yield [
        "seq",
        "occurred_at",
        "action",
        "actor",
        "object_type",
        "object_id",
        "object",
        "customer_id",
        "changes",
        "ip",
        "request_id",
        "hash",
    ]
    for event in events.iterator(chunk_size=2000):
        yield [
            event.seq,
            event.occurred_at.astimezone(zone).isoformat(),
            event.action,
            event.actor_username,
            event.object_type,
            event.object_id,
            event.object_repr,
            event.customer_id,
            json.dumps(event.changes, ensure_ascii=False),
            event.ip,
            event.request_id,
            event.hash,
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
@permission_required("core.view_auditevent", raise_exception=True)
def audit_export(request: HttpRequest) -> HttpResponseBase:
    """CSV (streamed) or XLSX of the filtered trail; the export itself is audited."""
    queryset = scoped(AuditEvent, request.user).order_by("seq")
    filterset = AuditEventFilterSet(request.GET, queryset=queryset, request=request)
    if not filterset.is_valid():
        return HttpResponse(_("Invalid filter."), status=400, content_type="text/plain")
    events = filterset.qs[:EXPORT_ROW_LIMIT]
    file_format = request.GET.get("format", "csv")
    if file_format not in {"csv", "xlsx"}:
        return HttpResponse(_("Unknown format."), status=400, content_type="text/plain")
    audit.record(
        AuditEvent.Action.EXPORT,
        object_type="core.auditevent",
        object_repr=_("Audit trail"),
        customer_id=request_user(request).customer_id,
        changes={"filter": request.GET.dict(), "format": file_format},
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    if file_format == "csv":
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse(
            ("\ufeff" if i == 0 else "") + writer.writerow(row)  # BOM: Excel opens UTF-8 right
            for i, row in enumerate(_audit_rows(events))
        )
        response["Content-Type"] = "text/csv; charset=utf-8"
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
        return response
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("audit")
    for row in _audit_rows(events):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    workbook_response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    workbook_response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.xlsx"'
    return workbook_response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The user's language, time zone, IM ids and API tokens."""
    user = request_user(request)
    form = ProfileForm(instance=user)
    token_form = TokenForm()
    new_key = None
    if request.method == "POST" and request.POST.get("form") == "profile":
        form = ProfileForm(request.POST, instance=user)
        if form.is_valid():
            form.save()
            messages.success(request, _("Profile saved."))
            return redirect("core:profile")
    elif request.method == "POST" and request.POST.get("form") == "token":
        token_form = TokenForm(request.POST)
        if token_form.is_valid():
            days = token_form.cleaned_data.get("expires_in_days")
            expires = timezone.now() + dt.timedelta(days=days) if days else None
            issued = services.create_token(user, token_form.cleaned_data["name"], expires)
            new_key = issued.key
            token_form = TokenForm()
    tokens = scoped(ApiToken, user).filter(user=user).order_by("-created_at")
    return render(
        request,
        "core/profile.html",
        {
            "form": form,
            "token_form": token_form,
            "tokens": tokens,
            "new_key": new_key,
        },
    )


@login_required
@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    token = get_object_or_404(scoped(ApiToken, user).filter(user=user), pk=pk)
    services.revoke_token(token)
    messages.success(request, _("Token revoked."))
    return redirect("core:profile")
