"""Discovery UI: open discrepancies to accept or reject, and observations matching no CI.

The URL names are resolved in the namespace the patterns are mounted in (``cmdb`` once
included from cmdb/urls.py), so the module does not depend on how it is mounted.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from opsassure.cmdb.discovery import AlreadyDecidedError, accept_discrepancy, reject_discrepancy
from opsassure.cmdb.models import ConfigurationItem, Discovery, Discrepancy
from opsassure.core.auth import request_user
from opsassure.core.tenancy import scoped
from opsassure.core.ui.generic import ScopedListView

UNMATCHED_SHOWN = 50


def _url_name(request: HttpRequest, name: str) -> str:
    match = request.resolver_match
    namespace = match.namespace if match is not None else ""
    return f"{namespace}:{name}" if namespace else name


def _ci_url(ci: ConfigurationItem) -> str | None:
    try:
        return ci.get_absolute_url()
    except NoReverseMatch:  # the CI pages are mounted by cmdb/urls.py
        return None


def display_value(value: Any) -> str:
    """A recorded/observed JSON value as text (lists comma-separated; nothing as a dash)."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


class DiscrepancyListView(ScopedListView):
    """Open discrepancies, newest first, with Accept / Reject; then unknown devices."""

    model = Discrepancy
    permission_required = "cmdb.view_discrepancy"
    template_name = "cmdb/discrepancies.html"
    title = gettext_lazy("Discovery discrepancies")

    def get_queryset(self) -> QuerySet[Any]:
        return (
            scoped(Discrepancy, self.request.user)
            .filter(status=Discrepancy.Status.OPEN)
            .select_related("ci", "ci__customer", "discovery")
            .order_by("-id")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        accept_name = _url_name(self.request, "discrepancy-accept")
        reject_name = _url_name(self.request, "discrepancy-reject")
        context["discrepancies"] = [
            {
                "object": row,
                "ci_url": _ci_url(row.ci),
                "recorded": display_value(row.recorded_value),
                "observed": display_value(row.observed_value),
                "accept_url": reverse(accept_name, args=[row.pk]),
                "reject_url": reverse(reject_name, args=[row.pk]),
            }
            for row in context["object_list"]
        ]
        context["can_accept"] = user.has_perms(
            ["cmdb.change_discrepancy", "cmdb.change_configurationitem"]
        )
        context["can_reject"] = user.has_perm("cmdb.change_discrepancy")
        unmatched: list[dict[str, Any]] = []
        if user.has_perm("cmdb.view_discovery"):
            rows = (
                scoped(Discovery, user)
                .filter(ci__isnull=True)
                .select_related("customer")
                .order_by("-received_at", "-id")[:UNMATCHED_SHOWN]
            )
            unmatched = [
                {
                    "object": row,
                    "hostname": display_value(row.facts.get("hostname")),
                    "serial_number": display_value(row.facts.get("serial_number")),
                    "ip_addresses": display_value(
                        row.facts.get("ip_addresses") or row.facts.get("primary_ip")
                    ),
                }
                for row in rows
            ]
        context["unmatched"] = unmatched
        context["unmatched_limit"] = UNMATCHED_SHOWN
        context["can_view_discoveries"] = user.has_perm("cmdb.view_discovery")
        return context


def _decide(request: HttpRequest, pk: int, accept: bool) -> HttpResponse:
    discrepancy = get_object_or_404(scoped(Discrepancy, request.user).select_related("ci"), pk=pk)
    try:
        if accept:
            accept_discrepancy(discrepancy, request_user(request))
            messages.success(
                request,
                _("%(ci)s: %(field)s updated from discovery.")
                % {"ci": discrepancy.ci.name, "field": discrepancy.field},
            )
        else:
            reject_discrepancy(discrepancy, request_user(request))
            messages.success(
                request,
                _("%(ci)s: observed %(field)s rejected; the record stays.")
                % {"ci": discrepancy.ci.name, "field": discrepancy.field},
            )
    except AlreadyDecidedError as error:
        messages.warning(request, str(error))
    except ValidationError as error:
        messages.error(
            request,
            _("Cannot accept: %(problems)s") % {"problems": " ".join(error.messages)},
        )
    return redirect(_url_name(request, "discrepancy-list"))


@login_required
@require_POST
@permission_required(
    ["cmdb.change_discrepancy", "cmdb.change_configurationitem"], raise_exception=True
)
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, accept=True)


@login_required
@require_POST
@permission_required("cmdb.change_discrepancy", raise_exception=True)
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, accept=False)
