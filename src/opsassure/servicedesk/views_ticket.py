"""The ticket page, for provider staff (agent view) and customer users (portal view).

One URL per ticket (``servicedesk:ticket-detail``, also the link in notification mails): the
page shows what the user's role may see. Another customer's ticket, or a ticket a customer
user may not see, is a 404 exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import FieldDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opsassure.cmdb.models import ConfigurationItem
from opsassure.core.auth import request_user
from opsassure.core.models import User
from opsassure.core.tenancy import scoped
from opsassure.servicedesk import workflow
from opsassure.servicedesk.forms import (
    AssignForm,
    AttachmentForm,
    ClassifyForm,
    CommentForm,
    RatingForm,
    ReopenForm,
    TransitionForm,
    flag_errors,
)
from opsassure.servicedesk.models import (
    Channel,
    PendingReason,
    Rating,
    ResolutionCode,
    SlaClock,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from opsassure.servicedesk.views_common import (
    EVENT_ICONS,
    PRIORITY_BADGES,
    STATUS_BADGES,
    can_see_internal,
    can_work,
    is_customer_admin,
    is_customer_user,
    ordered_clocks,
    present_clock,
    visible_attachments,
    visible_events,
    visible_tickets,
)

# Moves that need more than a click, and the form fields they show.
NEEDS_FIELDS = {
    TicketStatus.PENDING: ["pending_reason", "comment"],
    TicketStatus.RESOLVED: ["resolution_code", "resolution_note"],
    TicketStatus.CANCELLED: ["comment"],
    TicketStatus.REOPENED: ["comment"],
}
# Buttons say what the move does (the status names alone read oddly as verbs).
TRANSITION_LABELS = {
    TicketStatus.ASSIGNED: gettext_lazy("Back to the queue"),
    TicketStatus.IN_PROGRESS: gettext_lazy("Start work"),
    TicketStatus.PENDING: gettext_lazy("Set pending"),
    TicketStatus.RESOLVED: gettext_lazy("Resolve"),
    TicketStatus.CLOSED: gettext_lazy("Close"),
    TicketStatus.REOPENED: gettext_lazy("Reopen"),
    TicketStatus.CANCELLED: gettext_lazy("Cancel ticket"),
}
TRANSITION_STYLE = {
    TicketStatus.ASSIGNED: ("user-check", "btn-outline-secondary"),
    TicketStatus.IN_PROGRESS: ("player-play", "btn-primary"),
    TicketStatus.PENDING: ("player-pause", "btn-outline-warning"),
    TicketStatus.RESOLVED: ("circle-check", "btn-success"),
    TicketStatus.CLOSED: ("lock", "btn-outline-secondary"),
    TicketStatus.REOPENED: ("refresh", "btn-outline-primary"),
    TicketStatus.CANCELLED: ("x", "btn-outline-danger"),
}


@dataclass
class TransitionChoice:
    to: str
    label: str
    icon: str
    css: str
    fields: list[forms.BoundField]

    @property
    def needs_fields(self) -> bool:
        return bool(self.fields)


def get_ticket(request: HttpRequest, pk: int) -> Ticket:
    ticket = (
        visible_tickets(request.user)
        .select_related(
            "customer",
            "requester",
            "requester_contact",
            "service",
            "team",
            "assignee",
            "sla_policy",
            "parent",
            "duplicate_of",
        )
        .filter(pk=pk)
        .first()
    )
    if ticket is None:
        raise Http404(_("No such ticket."))
    return ticket


def allowed_transitions(user: User, ticket: Ticket) -> list[str]:
    return workflow.allowed_targets(workflow.actor_kind(user), ticket.status)


def transition_choices(
    user: User, ticket: Ticket, bound: TransitionForm | None
) -> list[TransitionChoice]:
    choices = []
    for target in allowed_transitions(user, ticket):
        if bound is not None and bound.data.get("to") == target:
            form = bound
        else:
            form = TransitionForm(initial={"to": target}, auto_id=f"id_{target}_%s")
        fields = [form[name] for name in NEEDS_FIELDS.get(TicketStatus(target), [])]
        icon, css = TRANSITION_STYLE.get(
            TicketStatus(target), ("arrow-right", "btn-outline-secondary")
        )
        label = str(TRANSITION_LABELS.get(TicketStatus(target), target))
        choices.append(TransitionChoice(target, label, icon, css, fields))
    return choices


def describe_event(event: TicketEvent) -> str:
    """One line that says what happened, from the event's stored details."""
    data = event.data if isinstance(event.data, dict) else {}
    kind = event.kind
    if kind == TicketEvent.Kind.STATUS and data.get("arrived_at"):
        return _("Engineer arrived on site")
    if kind == TicketEvent.Kind.STATUS and data.get("to"):
        statuses = dict(TicketStatus.choices)
        text = _("Status: %(from)s → %(to)s") % {
            "from": statuses.get(data.get("from", ""), data.get("from", "")),
            "to": statuses.get(data["to"], data["to"]),
        }
        if data.get("pending_reason") and data["to"] == TicketStatus.PENDING:
            text += f" ({dict(PendingReason.choices).get(data['pending_reason'], '')})"
        if data.get("resolution_code"):
            text += f" ({dict(ResolutionCode.choices).get(data['resolution_code'], '')})"
        return text
    if kind == TicketEvent.Kind.FIELD and isinstance(data.get("changes"), dict):
        names = [_field_label(name) for name in data["changes"]]
        return _("Changed: %(fields)s") % {"fields": ", ".join(names)}
    if kind == TicketEvent.Kind.RATING and data.get("score"):
        return _("Rated %(score)s of 5") % {"score": data["score"]}
    if kind == TicketEvent.Kind.CREATED:
        channels = dict(Channel.choices)
        return _("Ticket opened (%(channel)s)") % {
            "channel": channels.get(data.get("channel", ""), data.get("channel", ""))
        }
    if kind == TicketEvent.Kind.MAIL_IN and data.get("from"):
        return _("E-mail from %(sender)s") % {"sender": data["from"]}
    return str(event.get_kind_display())


def _field_label(name: str) -> str:
    try:
        field = Ticket._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(getattr(field, "verbose_name", name))


def event_rows(user: User, ticket: Ticket) -> list[dict[str, Any]]:
    rows = []
    for event in visible_events(user, ticket).order_by("-created_at", "-id"):
        icon, colour = EVENT_ICONS.get(TicketEvent.Kind(event.kind), ("point", "bg-secondary"))
        rows.append(
            {
                "event": event,
                "icon": icon,
                "colour": colour,
                "summary": describe_event(event),
                "internal": not event.is_public,
                "attachments": getattr(event, "shown_attachments", []),
            }
        )
    return rows


def ticket_context(
    request: HttpRequest, ticket: Ticket, bound: dict[str, forms.Form] | None = None
) -> dict[str, Any]:
    user = request_user(request)
    bound = bound or {}
    for form in bound.values():
        flag_errors(form)
    now = timezone.now()
    clocks = list(SlaClock.objects.filter(ticket=ticket).select_related("team"))
    sla = [present_clock(c, now) for c in ordered_clocks(c for c in clocks if c.team_id is None)]
    ola = [present_clock(c, now) for c in clocks if c.team_id is not None]
    cis = scoped(ConfigurationItem, user).filter(tickets=ticket).select_related("ci_type")
    transition_form = bound.get("transition")
    context: dict[str, Any] = {
        "ticket": ticket,
        "priority_badge": PRIORITY_BADGES.get(ticket.priority, "bg-secondary-lt"),
        "status_badge": STATUS_BADGES.get(ticket.status, "bg-secondary-lt"),
        "sla_clocks": sla,
        "ola_clocks": ola,
        "cis": cis,
        "timeline": event_rows(user, ticket),
        "attachments": visible_attachments(user, ticket),
        "transitions": transition_choices(
            user, ticket, transition_form if isinstance(transition_form, TransitionForm) else None
        ),
        "can_work": can_work(user),
        "can_see_internal": can_see_internal(user),
        "reply_form": bound.get("reply") or CommentForm(prefix="reply"),
        "attachment_form": bound.get("attach") or AttachmentForm(),
    }
    if is_customer_user(user):
        rating = Rating.objects.filter(ticket=ticket).first()
        may_rate = (
            ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
            and rating is None
            and (ticket.requester_id == user.pk or is_customer_admin(user))
        )
        context.update(
            rating=rating,
            rating_form=(bound.get("rate") or RatingForm()) if may_rate else None,
            reopen_form=bound.get("reopen") or ReopenForm(),
            may_reopen=TicketStatus.REOPENED in allowed_transitions(user, ticket),
            may_close=TicketStatus.CLOSED in allowed_transitions(user, ticket),
            may_cancel=TicketStatus.CANCELLED in allowed_transitions(user, ticket),
        )
    else:
        context.update(
            rating=Rating.objects.filter(ticket=ticket).first(),
            note_form=bound.get("note") or CommentForm(prefix="note"),
            assign_form=bound.get("assign")
            or AssignForm(
                user=user,
                ticket=ticket,
                initial={"team": ticket.team_id, "assignee": ticket.assignee_id},
            ),
            classify_form=bound.get("classify")
            or ClassifyForm(
                initial={
                    "impact": ticket.impact,
                    "urgency": ticket.urgency,
                    "priority": ticket.priority,
                }
            ),
            assigned_to_me=ticket.assignee_id == user.pk,
        )
    return context


def render_ticket(
    request: HttpRequest,
    ticket: Ticket,
    *,
    status: int = 200,
    bound: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    template = (
        "servicedesk/portal_ticket.html"
        if is_customer_user(request.user)
        else "servicedesk/ticket_detail.html"
    )
    return render(request, template, ticket_context(request, ticket, bound), status=status)


@login_required
@permission_required("servicedesk.view_ticket", raise_exception=True)
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_ticket(request, get_ticket(request, pk))
