"""Agent queues: my tickets, my team, unassigned, breaching soon, all open, all.

Every queue is the same table over ``visible_tickets(user)`` with the queue's condition, the
django-filter filters and the sort in the URL. The SLA column is computed here from the
ticket's clocks (one prefetch for the page) and ticked down in the browser by a tiny script.
Customer users asking for a queue get their portal list ("My tickets") instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opsassure.cmdb.views import CappedPaginator
from opsassure.core.tenancy import is_provider_staff
from opsassure.core.ui.generic import ScopedListView
from opsassure.servicedesk.filtersets import breaching_soon
from opsassure.servicedesk.forms import TicketFilterSet
from opsassure.servicedesk.models import OPEN_STATUSES, Ticket
from opsassure.servicedesk.views_common import (
    PRIORITY_BADGES,
    STATUS_BADGES,
    headline_clock,
    is_customer_user,
    sla_clocks_prefetch,
    visible_tickets,
)
from opsassure.servicedesk.views_portal import portal_list


@dataclass(frozen=True)
class Queue:
    key: str
    label: str | Promise
    icon: str
    default_sort: str


QUEUES: list[Queue] = [
    Queue("mine", gettext_lazy("My tickets"), "user", "due"),
    Queue("team", gettext_lazy("My team"), "users-group", "due"),
    Queue("unassigned", gettext_lazy("Unassigned"), "user-question", "priority"),
    Queue("breaching", gettext_lazy("Breaching soon"), "alarm", "due"),
    Queue("open", gettext_lazy("All open"), "inbox", "priority"),
    Queue("all", gettext_lazy("All tickets"), "archive", "created"),
]
QUEUES_BY_KEY = {queue.key: queue for queue in QUEUES}

SORTS: dict[str, list[Any]] = {
    "priority": ["priority", "-created_at", "-id"],
    "created": ["-created_at", "-id"],
    "due": [F("resolution_due").asc(nulls_last=True), "id"],
}
SORT_HEADERS = [
    ("priority", gettext_lazy("Priority")),
    ("created", gettext_lazy("Opened")),
    ("due", gettext_lazy("SLA")),
]


def queue_queryset(queue: str, user: Any, now: dt.datetime) -> QuerySet[Ticket]:
    tickets = visible_tickets(user)
    if queue == "all":
        return tickets
    tickets = tickets.filter(status__in=OPEN_STATUSES)
    if queue == "mine":
        return tickets.filter(assignee=user)
    if queue == "team":
        return tickets.filter(team__in=user.teams.filter(is_active=True))
    if queue == "unassigned":
        return tickets.filter(assignee__isnull=True)
    if queue == "breaching":
        return breaching_soon(tickets, now)
    return tickets


class QueueView(ScopedListView):
    """One queue of tickets for provider staff."""

    model = Ticket
    permission_required = "servicedesk.view_ticket"
    template_name = "servicedesk/queue.html"
    paginate_by = 50
    paginator_class = CappedPaginator
    queue = "open"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_customer_user(request.user):
            return portal_list(request)
        return super().get(request, *args, **kwargs)

    def get_paginate_by(self, queryset: Any) -> int:
        try:
            size = int(self.request.GET.get("page_size", self.paginate_by))
        except ValueError:
            size = self.paginate_by
        return max(10, min(size, 500))

    def get_queryset(self) -> QuerySet[Any]:
        self.now = timezone.now()
        queue = QUEUES_BY_KEY[self.queue]
        self.sort = self.request.GET.get("sort", queue.default_sort)
        if self.sort not in SORTS:
            self.sort = queue.default_sort
        queryset = queue_queryset(self.queue, self.request.user, self.now)
        self.filterset = TicketFilterSet(self.request.GET, queryset=queryset, request=self.request)
        queryset = self.filterset.qs if self.filterset.is_valid() else queryset.none()
        return (
            queryset.select_related("customer", "assignee", "team")
            .prefetch_related(sla_clocks_prefetch())
            .order_by(*SORTS[self.sort])
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        for field in self.filterset.form.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
                continue
            css = "form-select" if hasattr(field.widget, "choices") else "form-control"
            field.widget.attrs.setdefault("class", css)
            if isinstance(field, forms.ModelChoiceField):
                field.empty_label = _("All")
            elif isinstance(field, forms.ChoiceField) and not field.widget.allow_multiple_selected:
                # django-filter adds the empty choice itself (labelled empty_label).
                choices: list[Any] = list(cast(Any, field.choices))
                cast(Any, field).empty_label = _("All")
                field.choices = [c for c in choices if c[0] != ""]
        rows = []
        # One reverse() for the page, not two per row: a noticeable share of a 50-row page.
        detail_url = reverse("servicedesk:ticket-detail", args=[0])[: -len("0/")]
        for ticket in context["object_list"]:
            ticket.url = f"{detail_url}{ticket.pk}/"
            ticket.priority_badge = PRIORITY_BADGES.get(ticket.priority, "bg-secondary-lt")
            ticket.status_badge = STATUS_BADGES.get(ticket.status, "bg-secondary-lt")
            ticket.sla = headline_clock(ticket, self.now)
            rows.append(ticket)
        query = self.request.GET.copy()
        query.pop("page", None)
        sort_query = query.copy()
        sort_query.pop("sort", None)
        headers = {}
        for key, label in SORT_HEADERS:
            sort_query["sort"] = key
            headers[key] = {
                "label": label,
                "url": "?" + sort_query.urlencode(),
                "active": self.sort == key,
            }
        queue = QUEUES_BY_KEY[self.queue]
        context.update(
            tickets=rows,
            queue=queue,
            queues=QUEUES,
            title=queue.label,
            headers=headers,
            staff=is_provider_staff(self.request.user),
            show_customer=not self.request.GET.get("customer"),
            selected_statuses=self.request.GET.getlist("status"),
            selected_priorities=self.request.GET.getlist("priority"),
            full_querystring=query.urlencode(),
            can_create=self.request.user.has_perm("servicedesk.add_ticket"),
        )
        return context
