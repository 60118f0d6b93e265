"""Turning a stored inbound mail into a ticket or a reply on one (via ``services``).

Runs inside the caller's transaction: on any error nothing of the ticket side is written and
the mail is marked failed by ``inbound.process``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from opsassure.core.models import Customer, CustomerContact, User
from opsassure.servicedesk import services, workflow
from opsassure.servicedesk.errors import (
    AttachmentTooLarge,
    AttachmentTypeRefused,
    ServiceDeskError,
)
from opsassure.servicedesk.mail import parsing, quoting
from opsassure.servicedesk.mail.inbound import own_addresses
from opsassure.servicedesk.models import (
    Channel,
    InboundMail,
    Mailbox,
    OutboundMail,
    Ticket,
    TicketEvent,
)

logger = logging.getLogger(__name__)


class UnknownSenderError(Exception):
    """No customer user or contact has the sender's address (kept for inspection)."""


EXPECTED_ERRORS = (parsing.MailRejected, UnknownSenderError, ServiceDeskError)


@dataclass
class SenderMatch:
    customer: Customer | None = None
    user: User | None = None
    contact: CustomerContact | None = None


def match_sender(address: str, customer: Customer | None) -> SenderMatch:
    """The customer user, else the contact, with this address (within ``customer`` when the
    mailbox belongs to one). An address shared by several customers matches none: we do not
    guess whose ticket it is."""
    if not address:
        return SenderMatch()
    users = User.objects.filter(email__iexact=address, is_active=True, customer__isnull=False)
    contacts = CustomerContact.objects.filter(email__iexact=address)
    if customer is not None:
        users = users.filter(customer=customer)
        contacts = contacts.filter(customer=customer)
    user_customers = set(users.values_list("customer_id", flat=True))
    if len(user_customers) == 1:
        user = users.select_related("customer").order_by("pk").first()
        assert user is not None
        assert user.customer is not None
        return SenderMatch(customer=user.customer, user=user)
    if len(user_customers) > 1:
        return SenderMatch()
    contact_customers = set(contacts.values_list("customer_id", flat=True))
    if len(contact_customers) == 1:
        contact = contacts.select_related("customer").order_by("pk").first()
        assert contact is not None
        return SenderMatch(customer=contact.customer, contact=contact)
    return SenderMatch()


def find_ticket(parsed: parsing.ParsedMail, mailbox: Mailbox) -> Ticket | None:
    """The ticket this mail answers: by In-Reply-To/References (our Message-IDs, the ticket's
    thread id, earlier mails of the ticket), else by the [INC-…] token in the subject — the
    latter only for a sender the ticket's customer knows (a ticket number is no secret)."""
    tickets = Ticket.objects.all()
    if mailbox.customer_id is not None:
        tickets = tickets.filter(customer_id=mailbox.customer_id)
    ids = parsed.thread_ids
    if ids:
        for ticket_id in (
            OutboundMail.objects.filter(message_id__in=ids).values_list("ticket_id", flat=True),
            tickets.filter(mail_thread_id__in=ids).values_list("pk", flat=True),
            InboundMail.objects.filter(message_id__in=ids, ticket__isnull=False).values_list(
                "ticket_id", flat=True
            ),
        ):
            found = tickets.filter(pk__in=list(ticket_id[:20])).order_by("-pk").first()
            if found is not None:
                return found
    token = parsed.ticket_token
    if token:
        found = tickets.filter(number=token).first()
        if found is not None and _known_to(found, parsed.sender):
            return found
    return None


def _known_to(ticket: Ticket, address: str) -> bool:
    if not address:
        return False
    if ticket.requester_email and ticket.requester_email.lower() == address:
        return True
    if match_sender(address, ticket.customer).customer is not None:
        return True
    return User.objects.filter(
        email__iexact=address, is_active=True, customer__isnull=True
    ).exists()


def _actor_for(address: str, ticket: Ticket) -> User | None:
    """The user who wrote (so the timeline shows them), if they may see the ticket; the
    platform itself (None) otherwise."""
    for user in User.objects.filter(email__iexact=address, is_active=True).order_by("pk"):
        if user.customer_id not in (None, ticket.customer_id):
            continue
        if Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists():
            return user
    return None


def import_mail(mail: InboundMail) -> None:
    """Process ``mail`` (already claimed): ignore it, reply on a ticket or open one.

    Raises on failure (the caller records it); the caller holds the transaction.
    """
    mailbox = mail.mailbox
    parsed = parsing.parse_message(
        bytes(mail.raw), own_addresses(), settings.EMAIL_MAX_HEADER_BYTES
    )
    mail.sender = (
        f"{parsed.sender_name} <{parsed.sender}>" if parsed.sender_name else parsed.sender
    )[:320]
    mail.subject = parsed.subject
    if parsed.auto_submitted:
        mail.state = InboundMail.State.IGNORED
        mail.error = parsed.auto_reason
        mail.next_attempt_at = None
        mail.save(update_fields=["sender", "subject", "state", "error", "next_attempt_at"])
        return
    ticket = find_ticket(parsed, mailbox)
    if ticket is not None and ticket.status in workflow.FINAL_STATUSES:
        ticket = None  # a closed ticket is not reopened by mail: a new one is opened
    notes: list[str] = []
    if ticket is not None:
        event = services.add_reply(
            ticket,
            actor=_actor_for(parsed.sender, ticket),
            # The timeline shows what is new; the whole mail stays in the stored raw message.
            body=quoting.latest_reply(parsed.text) or _("(empty message)"),
            public=True,
            author_email=parsed.sender,
            mail=mail,
        )
    else:
        ticket, event = _open_ticket(parsed, mailbox)
    notes = _attach(ticket, event, parsed)
    mail.ticket = ticket
    mail.state = InboundMail.State.PROCESSED
    mail.error = "\n".join(notes)
    mail.next_attempt_at = None
    mail.save(update_fields=["sender", "subject", "ticket", "state", "error", "next_attempt_at"])


def _open_ticket(parsed: parsing.ParsedMail, mailbox: Mailbox) -> tuple[Ticket, TicketEvent]:
    match = match_sender(parsed.sender, mailbox.customer)
    customer = match.customer
    if customer is None:
        if mailbox.unknown_sender == Mailbox.UnknownSender.CONTACT and mailbox.customer:
            customer = mailbox.customer
        else:
            raise UnknownSenderError(
                _("Unknown sender %(address)s: no customer user or contact has this address.")
                % {"address": parsed.sender or "-"}
            )
    team = mailbox.default_team
    if team is not None and not team.customers.filter(pk=customer.pk).exists():
        team = None
    ticket = services.create_ticket(
        actor=None,
        customer=customer,
        title=(parsed.subject or _("(no subject)"))[:300],
        description=parsed.text,
        channel=Channel.EMAIL,
        requester=match.user,
        requester_contact=match.contact,
        requester_name=parsed.sender_name,
        requester_email=parsed.sender,
        team=team,
    )
    # The thread is the customer's first mail: our replies refer to it.
    Ticket.objects.filter(pk=ticket.pk, mail_thread_id="").update(mail_thread_id=parsed.message_id)
    ticket.mail_thread_id = parsed.message_id
    event = ticket.events.filter(kind=TicketEvent.Kind.CREATED).order_by("pk").first()
    assert event is not None
    return ticket, event


def _attach(ticket: Ticket, event: TicketEvent, parsed: parsing.ParsedMail) -> list[str]:
    """Keep the mail's attachments; one that breaks the limits is dropped with a note."""
    notes: list[str] = []
    for attachment in parsed.attachments:
        upload = SimpleUploadedFile(
            attachment.filename, attachment.content, attachment.content_type
        )
        try:
            with transaction.atomic():  # a refused file leaves nothing behind
                services.add_attachment(ticket, actor=None, upload=upload, public=True, event=event)
        except (AttachmentTooLarge, AttachmentTypeRefused) as error:
            note = _("Attachment %(name)s from the e-mail was dropped: %(reason)s") % {
                "name": attachment.filename,
                "reason": str(error),
            }
            notes.append(note)
            services.add_reply(ticket, actor=None, body=note, public=False)
    return notes
