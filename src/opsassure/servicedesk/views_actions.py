"""Ticket actions posted from the ticket page: reply, internal note, assign, status moves,
arrival, impact/urgency/priority, attachments and rating. (Downloads: ``downloads.py``.)

Each action checks its form, calls one service, and redirects to the ticket (POST, redirect,
GET). A refusal of the service (a move not allowed from here, a file too large, …) is shown
as a message on the ticket page with the service's 4xx status: nothing was written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opsassure.core.auth import request_user
from opsassure.servicedesk import services
from opsassure.servicedesk.errors import ServiceDeskError
from opsassure.servicedesk.forms import (
    AssignForm,
    AttachmentForm,
    ClassifyForm,
    CommentForm,
    RatingForm,
    ReopenForm,
    TransitionForm,
)
from opsassure.servicedesk.models import Ticket, TicketStatus
from opsassure.servicedesk.views_common import can_see_internal, can_work, is_customer_user
from opsassure.servicedesk.views_ticket import get_ticket, render_ticket


def _require_work(request: HttpRequest) -> None:
    if not can_work(request.user):
        raise PermissionDenied(_("You may not work on tickets."))


def _refused(
    request: HttpRequest,
    pk: int,
    error: ServiceDeskError | ValidationError,
    key: str,
    form: forms.Form,
) -> HttpResponse:
    """Show the service's refusal on the page; field problems go next to their fields."""
    if isinstance(error, ServiceDeskError):
        status = error.status_code
        message = error.message
        fields: dict[str, Any] = error.fields
    else:
        status = 400
        message = " ".join(error.messages)
        fields = error.message_dict if hasattr(error, "error_dict") else {}
    messages.error(request, message)
    for name, problems in fields.items():
        if name in form.fields and isinstance(problems, list | tuple):
            for problem in problems:
                form.add_error(name, str(problem))
    # The service rolled back; reload so the page shows what is stored, not what was tried.
    return render_ticket(request, get_ticket(request, pk), status=status, bound={key: form})


def _invalid(request: HttpRequest, ticket: Ticket, key: str, form: forms.Form) -> HttpResponse:
    messages.error(request, _("Please correct the marked fields."))
    return render_ticket(request, ticket, status=400, bound={key: form})


def _run(
    request: HttpRequest,
    ticket: Ticket,
    key: str,
    form: forms.Form,
    action: Callable[[], Any],
    success: str,
) -> HttpResponse:
    try:
        with transaction.atomic():
            action()
    except (ServiceDeskError, ValidationError) as error:
        return _refused(request, ticket.pk, error, key, form)
    messages.success(request, success)
    return redirect(ticket.get_absolute_url())


@login_required
@permission_required("servicedesk.view_ticket", raise_exception=True)
@require_POST
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    """A public reply (staff: to the customer; customer: to the provider)."""
    user = request_user(request)
    ticket = get_ticket(request, pk)
    if not is_customer_user(user):
        _require_work(request)
    form = CommentForm(request.POST, request.FILES, prefix="reply")
    if not form.is_valid():
        return _invalid(request, ticket, "reply", form)

    def action() -> None:
        event = services.add_reply(ticket, actor=user, body=form.cleaned_data["body"], public=True)
        upload = form.cleaned_data.get("attachment")
        if upload:
            services.add_attachment(ticket, actor=user, upload=upload, public=True, event=event)

    return _run(request, ticket, "reply", form, action, _("Reply added."))


@login_required
@permission_required("servicedesk.view_ticket", raise_exception=True)
@require_POST
def note(request: HttpRequest, pk: int) -> HttpResponse:
    """An internal note: never shown to customer users."""
    user = request_user(request)
    ticket = get_ticket(request, pk)
    _require_work(request)
    if not can_see_internal(user):
        raise PermissionDenied(_("You may not write internal notes."))
    form = CommentForm(request.POST, request.FILES, prefix="note")
    if not form.is_valid():
        return _invalid(request, ticket, "note", form)

    def action() -> None:
        event = services.add_reply(ticket, actor=user, body=form.cleaned_data["body"], public=False)
        upload = form.cleaned_data.get("attachment")
        if upload:
            services.add_attachment(ticket, actor=user, upload=upload, public=False, event=event)

    return _run(request, ticket, "note", form, action, _("Internal note added."))


@login_required
@permission_required("servicedesk.view_ticket", raise_exception=True)
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    ticket = get_ticket(request, pk)
    _require_work(request)
    if request.POST.get("take"):
        form: forms.Form = AssignForm(
            {"team": ticket.team_id or "", "assignee": user.pk}, user=user, ticket=ticket
        )
    else:
        form = AssignForm(request.POST, user=user, ticket=ticket)
    if not form.is_valid():
        return _invalid(request, ticket, "assign", form)
    data = form.cleaned_data
    return _run(
        request,
        ticket,
        "assign",
        form,
        lambda: services.assign(ticket, actor=user, team=data["team"], assignee=data["assignee"]),
        _("Assignment saved."),
    )


@login_required
@permission_required("servicedesk.view_ticket", raise_exception=True)
@require_POST
def transition(request: HttpRequest, pk: int) -> HttpResponse:
    """A status move; customers may only make theirs (the service checks who may do what)."""
    user = request_user(request)
    ticket = get_ticket(request, pk)
    target = request.POST.get("to", "")
    if not is_customer_user(user):
        _require_work(request)
    form = TransitionForm(request.POST, auto_id=f"id_{target}_%s")
    if target == TicketStatus.REOPENED and is_customer_user(user):
        reopen = ReopenForm(request.POST)
        if not reopen.is_valid():
            return _invalid(request, ticket, "reopen", reopen)
    if not form.is_valid():
        return _invalid(request, ticket, "transition", form)
    data = form.cleaned_data
    labels = dict(TicketStatus.choices)
    return _run(
        request,
        ticket,
        "transition",
        form,
        lambda: services.transition(
            ticket,
            actor=user,
            to=data["to"],
            pending_reason=data["pending_reason"],
            resolution_code=data["resolution_code"],
            resolution_note=data["resolution_note"],
            comment=data["comment"],
        ),
        _("Status changed to %(status)s.") % {"status": labels.get(data["to"], data["to"])},
    )


@login_required
@permission_required("servicedesk.view_ticket", raise_exception=True)
@require_POST
def arrival(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    ticket = get_ticket(request, pk)
    _require_work(request)
    return _run(
        request,
        ticket,
        "arrival",
        forms.Form(),
        lambda: services.record_arrival(ticket, actor=user),
        _("On-site arrival recorded."),
    )


@login_required
@permission_required("servicedesk.view_ticket", raise_exception=True)
@require_POST
def classify(request: HttpRequest, pk: int) -> HttpResponse:
    """Impact, urgency and (optionally overridden) priority; the service re-targets clocks."""
    user = request_user(request)
    ticket = get_ticket(request, pk)
    _require_work(request)
    form = ClassifyForm(request.POST)
    if not form.is_valid():
        return _invalid(request, ticket, "classify", form)
    data = form.cleaned_data
    changes: dict[str, Any] = {
        name: data[name] for name in ("impact", "urgency") if data[name] != getattr(ticket, name)
    }
    if data["priority"] is not None and data["priority"] != ticket.priority:
        changes["priority"] = data["priority"]
    if not changes:
        messages.info(request, _("Nothing changed."))
        return redirect(ticket.get_absolute_url())
    return _run(
        request,
        ticket,
        "classify",
        form,
        lambda: services.update_ticket(ticket, actor=user, **changes),
        _("Classification saved."),
    )


@login_required
@permission_required("servicedesk.view_ticket", raise_exception=True)
@require_POST
def attach(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    ticket = get_ticket(request, pk)
    customer = is_customer_user(user)
    if not customer:
        _require_work(request)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _invalid(request, ticket, "attach", form)
    public = True if customer else bool(form.cleaned_data.get("public"))
    return _run(
        request,
        ticket,
        "attach",
        form,
        lambda: services.add_attachment(
            ticket, actor=user, upload=form.cleaned_data["file"], public=public
        ),
        _("File attached."),
    )


@login_required
@permission_required("servicedesk.view_ticket", raise_exception=True)
@require_POST
def rate(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    ticket = get_ticket(request, pk)
    form = RatingForm(request.POST)
    if not form.is_valid():
        return _invalid(request, ticket, "rate", form)
    return _run(
        request,
        ticket,
        "rate",
        form,
        lambda: services.rate(
            ticket,
            actor=user,
            score=form.cleaned_data["score"],
            comment=form.cleaned_data["comment"],
        ),
        _("Thank you for your rating."),
    )
