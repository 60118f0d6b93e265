"""The customer portal: "My tickets", "New ticket". The ticket page itself is shared with
the agents (``views_ticket``) and shows a customer user only the public side.

A customer user sees the tickets they requested and those shared with their customer; a
customer admin sees all of the customer's tickets (``Ticket.objects.visible_to``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from opsassure.core.auth import request_user
from opsassure.servicedesk import services
from opsassure.servicedesk.errors import ServiceDeskError
from opsassure.servicedesk.forms import PortalTicketForm, flag_errors
from opsassure.servicedesk.models import OPEN_STATUSES, Channel
from opsassure.servicedesk.views_common import (
    PRIORITY_BADGES,
    STATUS_BADGES,
    is_customer_admin,
    is_customer_user,
    visible_tickets,
)

PORTAL_PAGE = 25


@login_required
@permission_required("servicedesk.view_ticket", raise_exception=True)
def portal_list(request: HttpRequest) -> HttpResponse:
    """My tickets (a customer admin: all of the customer's), open ones first."""
    user = request_user(request)
    if not is_customer_user(user):
        return redirect("servicedesk:queue-open")
    tickets = visible_tickets(user).select_related("assignee", "requester")
    show = request.GET.get("show", "open")
    if show == "open":
        tickets = tickets.filter(status__in=OPEN_STATUSES)
    elif show == "mine":
        tickets = tickets.filter(requester=user)
    else:
        show = "all"
    page = Paginator(tickets.order_by("-created_at", "-id"), PORTAL_PAGE).get_page(
        request.GET.get("page")
    )
    for ticket in page.object_list:
        ticket.status_badge = STATUS_BADGES.get(ticket.status, "bg-secondary-lt")
        ticket.priority_badge = PRIORITY_BADGES.get(ticket.priority, "bg-secondary-lt")
    return render(
        request,
        "servicedesk/portal_list.html",
        {
            "page_obj": page,
            "tickets": page.object_list,
            "show": show,
            "customer_admin": is_customer_admin(user),
            "can_create": user.has_perm("servicedesk.add_ticket"),
        },
    )


@login_required
@permission_required("servicedesk.add_ticket", raise_exception=True)
def portal_new(request: HttpRequest) -> HttpResponse:
    """A customer user opens a ticket for their own customer."""
    user = request_user(request)
    if not is_customer_user(user) or user.customer is None:
        raise PermissionDenied(_("The portal is for customer users; staff use the phone form."))
    status = 200
    if request.method == "POST":
        form = PortalTicketForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    ticket = services.create_ticket(
                        actor=user,
                        customer=user.customer,
                        title=data["title"],
                        description=data["description"],
                        kind=data["kind"],
                        channel=Channel.PORTAL,
                        requester=user,
                        service=data["service"],
                        impact=data["impact"],
                        urgency=data["urgency"],
                    )
                    if data.get("attachment"):
                        services.add_attachment(
                            ticket, actor=user, upload=data["attachment"], public=True
                        )
            except ServiceDeskError as error:
                messages.error(request, error.message)
                for name, problems in error.fields.items():
                    target = "attachment" if name == "file" else name
                    if target in form.fields and isinstance(problems, list | tuple):
                        for problem in problems:
                            form.add_error(target, str(problem))
                status = error.status_code
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                status = 400
            else:
                messages.success(
                    request,
                    _("Thank you. Your ticket %(number)s has been received.")
                    % {"number": ticket.number},
                )
                return redirect(ticket.get_absolute_url())
        else:
            status = 400
        flag_errors(form)
    else:
        form = PortalTicketForm(user=user)
    return render(request, "servicedesk/portal_new.html", {"form": form}, status=status)
