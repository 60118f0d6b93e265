"""Outbound mail: a transactional outbox filled from timeline events, sent over SMTP.

``on_ticket_event`` (a receiver of ``servicedesk.signals.ticket_event``, which fires after the
event's transaction committed) writes OutboundMail rows: public replies and status changes
to the requester, customer replies and assignments to the assignee, each rendered in the
recipient's language and threaded with Message-ID / In-Reply-To / References. The sender
(``sending.send_due``) claims rows with a conditional UPDATE and sends them — these and
the SLA/escalation notices the escalation engine queues itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.utils import formataddr, make_msgid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch
from django.utils import translation
from django.utils.translation import gettext as _

from opsassure.core.jobs import enqueue_on_commit
from opsassure.core.models import User
from opsassure.servicedesk.models import (
    Channel,
    InboundMail,
    Mailbox,
    OutboundMail,
    Ticket,
    TicketEvent,
    TicketStatus,
)

logger = logging.getLogger(__name__)
MAX_REFERENCES = 10
Kind = TicketEvent.Kind


@dataclass(frozen=True)
class Recipient:
    address: str
    language: str
    user: User | None = None


def connect() -> None:
    """Listen to the service desk's timeline (called from the app's ``ready``)."""
    from opsassure.servicedesk.signals import ticket_event

    ticket_event.connect(on_ticket_event, sender=TicketEvent, dispatch_uid="sdmail_outbound")


# The only kinds ``recipients_for`` answers for: others (SLA entries, escalations, notes,
# field changes …) are not even read back — the breach sweep writes hundreds at once.
MAILED_KINDS = frozenset({Kind.CREATED, Kind.REPLY, Kind.MAIL_IN, Kind.STATUS, Kind.ASSIGNMENT})


def on_ticket_event(sender: Any, event: TicketEvent, **_: Any) -> None:
    """Queue the notifications ``event`` calls for; a failure here never breaks the caller."""
    mails: list[OutboundMail] = []
    if event.kind in MAILED_KINDS:
        try:
            with transaction.atomic():
                mails = queue_for_event(event)
        except Exception:
            logger.exception("could not queue mail for ticket event %s", event.pk)
            return
    # Escalation notices are queued by the escalation engine: send them now too.
    if mails or (event.kind == Kind.ESCALATION and event.data.get("mails")):
        from opsassure.servicedesk.mail import tasks

        enqueue_on_commit(tasks.notify_send_mail)


def default_language() -> str:
    return str(settings.LANGUAGE_CODE)


def _user_recipient(user: User | None) -> Recipient | None:
    if user is None or not user.is_active or not user.email:
        return None
    return Recipient(user.email.lower(), user.language or default_language(), user)


def requester_of(ticket: Ticket) -> Recipient | None:
    """The requester's address: their user account, their contact card, or the address
    the ticket was opened with."""
    found = _user_recipient(ticket.requester)
    if found:
        return found
    contact = ticket.requester_contact
    if contact is not None and contact.email:
        return Recipient(contact.email.lower(), default_language())
    if ticket.requester_email:
        return Recipient(ticket.requester_email.lower(), default_language())
    return None


def _is_staff(user: User | None) -> bool:
    return user is not None and user.customer_id is None


def recipients_for(event: TicketEvent) -> list[tuple[str, Recipient]]:
    """``(template, recipient)`` pairs for ``event``; empty when nobody is to be told.

    SLA warnings and escalations are not here: the escalation engine writes their
    OutboundMail rows itself (``servicedesk.escalations``); this module sends them.
    """
    ticket = event.ticket
    actor = event.actor
    found: list[tuple[str, Recipient | None]] = []
    if event.kind == Kind.CREATED and ticket.channel == Channel.EMAIL:
        found.append(("created", requester_of(ticket)))
    elif event.kind in (Kind.REPLY, Kind.MAIL_IN) and event.is_public:
        if _is_staff(actor):
            found.append(("reply", requester_of(ticket)))
        elif ticket.assignee_id and ticket.assignee != actor:
            found.append(("customer_reply", _user_recipient(ticket.assignee)))
    elif event.kind == Kind.STATUS and event.is_public:
        if actor is None or actor.pk != ticket.requester_id:
            found.append(("status", requester_of(ticket)))
    elif (
        event.kind == Kind.ASSIGNMENT
        and ticket.assignee_id
        and ticket.assignee_id != getattr(actor, "pk", None)
    ):
        found.append(("assigned", _user_recipient(ticket.assignee)))
    unique: dict[str, tuple[str, Recipient]] = {}
    for template, recipient in found:
        if recipient is not None and recipient.address not in unique:
            unique[recipient.address] = (template, recipient)
    return list(unique.values())


def message_domain() -> str:
    return str(settings.EMAIL_MESSAGE_ID_DOMAIN or "localhost")


def sender_mailbox(ticket: Ticket) -> Mailbox | None:
    """The mailbox replies come from: the one the ticket's mail arrived in, else the
    customer's, else a provider-wide one. Replies then land where we poll."""
    last_in = (
        InboundMail.objects.filter(ticket=ticket, mailbox__is_active=True)
        .select_related("mailbox")
        .order_by("-received_at", "-id")
        .first()
    )
    if last_in is not None:
        return last_in.mailbox
    return (
        Mailbox.objects.filter(is_active=True)
        .filter(Q(customer=ticket.customer_id) | Q(customer__isnull=True))
        .order_by(F("customer_id").asc(nulls_last=True), "pk")  # the customer's own first
        .first()
    )


def from_address(ticket: Ticket) -> str:
    mailbox = sender_mailbox(ticket)
    if mailbox is None:
        return str(settings.DEFAULT_FROM_EMAIL)
    return formataddr((mailbox.name, mailbox.address))


def _thread(ticket: Ticket) -> tuple[str, list[str]]:
    """(In-Reply-To, References) for the next mail on ``ticket``'s thread."""
    root = ticket.mail_thread_id
    if not root:
        return "", []
    latest: list[tuple[Any, str]] = []
    inbound = (
        InboundMail.objects.filter(ticket=ticket)
        .order_by("-received_at", "-id")
        .values_list("received_at", "message_id")[:MAX_REFERENCES]
    )
    outbound = (
        OutboundMail.objects.filter(ticket=ticket)
        .order_by("-created_at", "-id")
        .values_list("created_at", "message_id")[:MAX_REFERENCES]
    )
    latest = sorted([*inbound, *outbound], key=lambda pair: pair[0])
    chain = [root] + [mid for _at, mid in latest if mid != root]
    chain = [chain[0], *chain[1:][-(MAX_REFERENCES - 1) :]]
    return chain[-1], chain


def ticket_link(ticket: Ticket) -> str:
    try:
        return f"{settings.BASE_URL}{ticket.get_absolute_url()}"
    except NoReverseMatch:  # the ticket UI is not installed (yet)
        return ""


def render(template: str, event: TicketEvent, recipient: Recipient) -> tuple[str, str]:
    """Subject and body of one notification in the recipient's language."""
    ticket = event.ticket
    with translation.override(recipient.language):
        # The status the event moved to (the ticket may have moved on since).
        moved_to = event.data.get("to") if event.kind == Kind.STATUS else None
        status = (
            str(TicketStatus(moved_to).label)
            if moved_to in TicketStatus.values
            else ticket.get_status_display()
        )
        subjects = {
            "created": _("Ticket received: %(title)s"),
            "reply": _("Re: %(title)s"),
            "customer_reply": _("Customer replied: %(title)s"),
            "status": _("Status %(status)s: %(title)s"),
            "assigned": _("Assigned to you: %(title)s"),
        }
        line = subjects[template] % {"title": ticket.title, "status": status}
        subject = f"[{ticket.number}] {line}"
        body = render_to_string(
            "sdmail/mail/notification.txt",
            {
                "template": template,
                "ticket": ticket,
                "event": event,
                "status": status,
                "priority": ticket.get_priority_display(),
                "link": ticket_link(ticket),
                "for_staff": recipient.user is not None and _is_staff(recipient.user),
            },
        )
    return subject[:998].replace("\n", " "), body.strip() + "\n"


def queue_for_event(event: TicketEvent) -> list[OutboundMail]:
    """Write the OutboundMail rows ``event`` calls for (call inside a transaction)."""
    event = TicketEvent.objects.select_related(
        "actor",
        "ticket__requester",
        "ticket__requester_contact",
        "ticket__assignee",
        "ticket__team",
    ).get(pk=event.pk)
    ticket = event.ticket
    queued: list[OutboundMail] = []
    for template, recipient in recipients_for(event):
        subject, body = render(template, event, recipient)
        # Short on purpose: a Message-ID longer than a header line gets folded by Django,
        # which some mail clients then fail to match when threading.
        message_id = make_msgid(domain=message_domain())
        if not ticket.mail_thread_id:
            # The first mail of the thread: every later mail refers to it.
            Ticket.objects.filter(pk=ticket.pk, mail_thread_id="").update(mail_thread_id=message_id)
            ticket.mail_thread_id = Ticket.objects.values_list("mail_thread_id", flat=True).get(
                pk=ticket.pk
            )
        in_reply_to, references = _thread(ticket)
        if in_reply_to == message_id:
            in_reply_to, references = "", []
        try:
            with transaction.atomic():
                mail = OutboundMail.objects.create(
                    ticket=ticket,
                    to=[recipient.address],
                    subject=subject,
                    body=body,
                    message_id=message_id,
                    in_reply_to=in_reply_to,
                    references=" ".join(references),
                    language=recipient.language,
                )
        except IntegrityError:  # pragma: no cover - make_msgid is unique per call
            logger.warning("duplicate Message-ID %s", message_id)
            continue
        queued.append(mail)
    return queued
