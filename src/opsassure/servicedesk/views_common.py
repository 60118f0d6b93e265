"""What every service desk page shares: who sees which ticket, SLA clocks as a person reads
them, the timeline, and turning a service's refusal into a message on the page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opsassure.catalog.models import SlaMetric
from opsassure.core.tenancy import scoped
from opsassure.servicedesk.models import (
    Attachment,
    SlaClock,
    Ticket,
    TicketEvent,
    TicketStatus,
)

PRIORITY_BADGES: dict[int, str] = {
    1: "bg-red text-red-fg",
    2: "bg-orange text-orange-fg",
    3: "bg-azure-lt",
    4: "bg-secondary-lt",
}
STATUS_BADGES: dict[str, str] = {
    TicketStatus.NEW: "bg-blue-lt",
    TicketStatus.ASSIGNED: "bg-indigo-lt",
    TicketStatus.IN_PROGRESS: "bg-cyan-lt",
    TicketStatus.PENDING: "bg-yellow-lt",
    TicketStatus.RESOLVED: "bg-green-lt",
    TicketStatus.CLOSED: "bg-secondary-lt",
    TicketStatus.REOPENED: "bg-purple-lt",
    TicketStatus.CANCELLED: "bg-secondary-lt",
}
METRIC_ORDER = [SlaMetric.RESPONSE, SlaMetric.ARRIVAL, SlaMetric.RESOLUTION]
METRIC_SHORT: dict[str, Any] = {
    SlaMetric.RESPONSE: gettext_lazy("Response"),
    SlaMetric.ARRIVAL: gettext_lazy("Arrival"),
    SlaMetric.RESOLUTION: gettext_lazy("Resolution"),
}
EVENT_ICONS = {
    TicketEvent.Kind.CREATED: ("plus", "bg-blue"),
    TicketEvent.Kind.REPLY: ("message", "bg-green"),
    TicketEvent.Kind.NOTE: ("note", "bg-yellow"),
    TicketEvent.Kind.STATUS: ("arrows-exchange", "bg-cyan"),
    TicketEvent.Kind.ASSIGNMENT: ("user-check", "bg-indigo"),
    TicketEvent.Kind.FIELD: ("pencil", "bg-secondary"),
    TicketEvent.Kind.SLA: ("clock-exclamation", "bg-orange"),
    TicketEvent.Kind.ESCALATION: ("arrow-big-up-lines", "bg-red"),
    TicketEvent.Kind.MAIL_IN: ("mail-down", "bg-teal"),
    TicketEvent.Kind.MAIL_OUT: ("mail-up", "bg-teal"),
    TicketEvent.Kind.ATTACHMENT: ("paperclip", "bg-secondary"),
    TicketEvent.Kind.RATING: ("star", "bg-yellow"),
}


def is_customer_user(user: Any) -> bool:
    return getattr(user, "customer_id", None) is not None


def is_customer_admin(user: Any) -> bool:
    """A customer user who sees all of their customer's tickets (the customer admin role)."""
    return is_customer_user(user) and bool(user.has_perm("servicedesk.view_customer_tickets"))


def visible_tickets(user: Any) -> QuerySet[Ticket]:
    """Tickets ``user`` may see (``Ticket.objects.visible_to``: the tenant scope, and for a
    customer user without the customer admin role only requested or shared tickets)."""
    tickets: QuerySet[Ticket] = scoped(Ticket, user)
    return tickets


def visible_events(user: Any, ticket: Ticket) -> QuerySet[TicketEvent]:
    events: QuerySet[TicketEvent] = scoped(TicketEvent, user).filter(ticket=ticket)
    if not can_see_internal(user):
        events = events.filter(is_public=True)
    attachments = visible_attachments(user, ticket)
    return events.select_related("actor").prefetch_related(
        Prefetch("attachments", queryset=attachments, to_attr="shown_attachments")
    )


def visible_attachments(user: Any, ticket: Ticket) -> QuerySet[Attachment]:
    attachments: QuerySet[Attachment] = scoped(Attachment, user).filter(ticket=ticket)
    if not can_see_internal(user):
        attachments = attachments.filter(is_public=True).exclude(event__is_public=False)
    return attachments.select_related("uploaded_by")


def can_see_internal(user: Any) -> bool:
    """Internal notes and private attachments: provider staff with the permission only."""
    return not is_customer_user(user) and bool(
        user.is_authenticated and user.has_perm("servicedesk.view_internal_notes")
    )


def can_work(user: Any) -> bool:
    return not is_customer_user(user) and bool(user.has_perm("servicedesk.work_ticket"))


def sla_clocks_prefetch() -> Prefetch[Any]:
    return Prefetch(
        "clocks",
        queryset=SlaClock.objects.filter(team__isnull=True).order_by("metric"),
        to_attr="sla_clocks",
    )


def format_duration(seconds: float) -> str:
    """Compact, unit-based (readable in both languages): 2d 4h, 3h 05m, 12m, 40s."""
    sign = "−" if seconds < 0 else ""
    total = int(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days}d {hours}h"
    elif hours:
        text = f"{hours}h {minutes:02d}m"
    elif minutes:
        text = f"{minutes}m {secs:02d}s"
    else:
        text = f"{secs}s"
    return sign + text


@dataclass
class ClockView:
    """One SLA clock as shown: colour by state, the countdown computed here (server-side)."""

    clock: SlaClock
    label: str
    tone: str  # green, amber, red, grey
    state_text: str
    due_at: dt.datetime | None
    remaining_seconds: int | None
    ticking: bool

    @property
    def badge(self) -> str:
        return {
            "green": "bg-green-lt text-green",
            "amber": "bg-yellow-lt text-yellow",
            "red": "bg-red-lt text-red",
        }.get(self.tone, "bg-secondary-lt text-secondary")

    @property
    def remaining_text(self) -> str:
        return "" if self.remaining_seconds is None else format_duration(self.remaining_seconds)

    @property
    def icon(self) -> str:
        if self.tone == "red":
            return "alert-octagon"
        if self.ticking:
            return "clock"
        return "player-pause" if self.clock.state == SlaClock.State.PAUSED else "circle-check"

    @property
    def html(self) -> SafeString:
        """The badge (built here, not by a template include: the queue has 50 of them)."""
        title = f"{self.label} · {self.state_text}"
        if self.due_at:
            due = timezone.localtime(self.due_at).strftime("%Y-%m-%d %H:%M")
            title += f" · {_('due')} {due}"
        ticking = (
            format_html(
                ' data-due="{}" data-warn1="{}" data-warn2="{}"',
                self.due_iso,
                self.warn_first_iso,
                self.warn_second_iso,
            )
            if self.ticking
            else ""
        )
        text = self.remaining_text if self.remaining_seconds is not None else self.state_text
        return format_html(
            '<span class="badge {} sla-clock text-nowrap" data-testid="sla-{}" data-tone="{}"{}'
            ' title="{}"><i class="ti ti-{} me-1"></i><span class="sla-remaining">{}</span></span>',
            self.badge,
            self.clock.metric,
            self.tone,
            ticking,
            title,
            self.icon,
            text,
        )

    @property
    def due_iso(self) -> str:
        return self.due_at.isoformat() if self.due_at else ""

    @property
    def warn_first_iso(self) -> str:
        value = self.clock.warn_first_at
        return value.isoformat() if value and self.ticking else ""

    @property
    def warn_second_iso(self) -> str:
        value = self.clock.warn_second_at
        return value.isoformat() if value and self.ticking else ""


def present_clock(clock: SlaClock, now: dt.datetime | None = None) -> ClockView:
    now = now or timezone.now()
    label = str(METRIC_SHORT.get(clock.metric, clock.get_metric_display()))
    if clock.state == SlaClock.State.STOPPED:
        if clock.breached:
            return ClockView(clock, label, "red", _("Missed"), clock.due_at, None, False)
        return ClockView(clock, label, "grey", _("Met"), clock.due_at, None, False)
    if clock.state == SlaClock.State.PAUSED:
        left = clock.target_minutes * 60 - clock.elapsed_seconds
        tone = "red" if clock.breached or left <= 0 else "grey"
        return ClockView(clock, label, tone, _("Paused"), None, left, False)
    due = clock.due_at
    remaining = int((due - now).total_seconds()) if due else None
    if clock.breached or (remaining is not None and remaining <= 0):
        tone, text = "red", _("Breached")
    elif clock.warn_second_at and now >= clock.warn_second_at:
        tone, text = "red", _("Running")
    elif clock.warn_first_at and now >= clock.warn_first_at:
        tone, text = "amber", _("Running")
    else:
        tone, text = "green", _("Running")
    return ClockView(clock, label, tone, text, due, remaining, True)


def ordered_clocks(clocks: Iterable[SlaClock]) -> list[SlaClock]:
    by_metric = {clock.metric: clock for clock in clocks}
    return [by_metric[m] for m in METRIC_ORDER if m in by_metric]


def headline_clock(ticket: Ticket, now: dt.datetime | None = None) -> ClockView | None:
    """The clock the queue shows: the first one still running or paused (response before
    resolution), else the resolution clock's outcome."""
    clocks = ordered_clocks(getattr(ticket, "sla_clocks", None) or [])
    if not clocks:
        return None
    for clock in clocks:
        if clock.state != SlaClock.State.STOPPED:
            return present_clock(clock, now)
    return present_clock(clocks[-1], now)


def display_name(user: AnonymousUser | Any) -> str:
    return str(user) if user is not None else _("System")
