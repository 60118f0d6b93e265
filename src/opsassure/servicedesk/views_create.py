"""Quick create for a phone call: one keyboard-friendly screen.

Picking the customer loads that customer's contacts, services and CIs (HTMX); impact and
urgency show the priority the SLA policy's matrix gives (``catalog.policies.priority_for``),
so the agent sees it before saving. The service computes it again when it creates the ticket.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from opsassure.catalog.models import Priority, Service
from opsassure.catalog.policies import policy_for, priority_for
from opsassure.core.auth import request_user
from opsassure.core.tenancy import scoped
from opsassure.servicedesk import services
from opsassure.servicedesk.errors import ServiceDeskError
from opsassure.servicedesk.forms import PhoneTicketForm, flag_errors
from opsassure.servicedesk.models import Channel
from opsassure.servicedesk.views_common import PRIORITY_BADGES, is_customer_user


def _staff_only(request: HttpRequest) -> None:
    if is_customer_user(request.user):
        raise PermissionDenied(_("Customer users open tickets in the portal."))


@login_required
@permission_required("servicedesk.add_ticket", raise_exception=True)
def phone_ticket(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    user = request_user(request)
    if request.method == "POST":
        form = PhoneTicketForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            contact = data["requester_contact"]
            try:
                ticket = services.create_ticket(
                    actor=user,
                    customer=data["customer"],
                    title=data["title"],
                    description=data["description"],
                    kind=data["kind"],
                    channel=Channel.PHONE,
                    requester_contact=contact,
                    requester_name=form.requester_name_value() or (contact.name if contact else ""),
                    requester_email=contact.email if contact else "",
                    service=data["service"],
                    impact=data["impact"],
                    urgency=data["urgency"],
                    team=data["team"],
                    assignee=user if data["assign_to_me"] else None,
                    cis=list(data["cis"]),
                )
            except ServiceDeskError as error:
                messages.error(request, error.message)
                for name, problems in error.fields.items():
                    if name in form.fields and isinstance(problems, list | tuple):
                        for problem in problems:
                            form.add_error(name, str(problem))
                status = error.status_code
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                status = 400
            else:
                messages.success(
                    request, _("Ticket %(number)s created.") % {"number": ticket.number}
                )
                return redirect(ticket.get_absolute_url())
        else:
            status = 400
        flag_errors(form)
    else:
        form = PhoneTicketForm(user=user, initial={"customer": request.GET.get("customer")})
        status = 200
    return render(
        request,
        "servicedesk/phone_ticket.html",
        {"form": form, "priority": _priority_preview(request, form)},
        status=status,
    )


def _priority_preview(request: HttpRequest, form: PhoneTicketForm) -> dict[str, object] | None:
    customer = form.selected_customer()
    if customer is None:
        return None
    values = form.data if form.is_bound else form.initial

    def _int(name: str, default: int) -> int:
        try:
            return int(values.get(name) or form.fields[name].initial or default)
        except (TypeError, ValueError):
            return default

    service = None
    service_id = values.get("service")
    if service_id:
        try:
            service = (
                scoped(Service, request.user).filter(pk=int(service_id), customer=customer).first()
            )
        except (TypeError, ValueError):
            service = None
    policy = policy_for(customer, service)
    priority = priority_for(policy, _int("impact", 2), _int("urgency", 2))
    return {
        "value": priority,
        "label": Priority(priority).label,
        "badge": PRIORITY_BADGES.get(priority, "bg-secondary-lt"),
        "policy": policy,
    }


def _echo_form(request: HttpRequest) -> PhoneTicketForm:
    """An unbound form showing what was typed so far: no "required" errors while typing."""
    initial: dict[str, object] = {key: request.GET.get(key) for key in request.GET}
    initial["cis"] = request.GET.getlist("cis")
    return PhoneTicketForm(user=request_user(request), initial=initial)


@login_required
@permission_required("servicedesk.add_ticket", raise_exception=True)
@require_GET
def phone_customer_fields(request: HttpRequest) -> HttpResponse:
    """HTMX: the caller, service and CI fields for the chosen customer, and the priority."""
    _staff_only(request)
    form = _echo_form(request)
    return render(
        request,
        "servicedesk/_phone_customer_fields.html",
        {"form": form, "priority": _priority_preview(request, form), "htmx": True},
    )


@login_required
@permission_required("servicedesk.add_ticket", raise_exception=True)
@require_GET
def phone_priority(request: HttpRequest) -> HttpResponse:
    """HTMX: the priority impact × urgency gives under the customer's (service's) policy."""
    _staff_only(request)
    form = _echo_form(request)
    return render(
        request,
        "servicedesk/_priority_preview.html",
        {"priority": _priority_preview(request, form)},
    )
