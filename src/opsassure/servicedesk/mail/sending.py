"""Sending the outbox over SMTP (Django's configured e-mail backend), at least once.

A worker claims a pending row with a conditional UPDATE on ``attempts`` and pushes
``next_attempt_at`` past a lease, so two workers never send the same row at the same time and
a crashed worker's row is retried after the lease. A failed send is retried with growing
delays and left ``failed`` after ``EMAIL_SEND_MAX_ATTEMPTS``. Should the process die between
the SMTP server's "250" and our UPDATE, the mail is sent again with the same Message-ID,
which mail clients show once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import F, Q
from django.utils import timezone

from opsassure.servicedesk.mail.outbound import from_address
from opsassure.servicedesk.models import OutboundMail, TicketEvent

logger = logging.getLogger(__name__)
LEASE_SECONDS = 300
BACKOFF_SECONDS = (60, 300, 900, 3600, 3 * 3600)


def due_ids(now: dt.datetime | None = None, limit: int = 100) -> list[int]:
    now = now or timezone.now()
    return list(
        OutboundMail.objects.filter(state=OutboundMail.State.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def claim(mail_id: int, now: dt.datetime | None = None) -> OutboundMail | None:
    """The row, if this worker won it for one send attempt; None otherwise."""
    now = now or timezone.now()
    found = (
        OutboundMail.objects.filter(pk=mail_id, state=OutboundMail.State.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .values_list("attempts", flat=True)
        .first()
    )
    if found is None:
        return None
    won = OutboundMail.objects.filter(
        pk=mail_id, state=OutboundMail.State.PENDING, attempts=found
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + dt.timedelta(seconds=LEASE_SECONDS))
    if won != 1:
        return None
    return OutboundMail.objects.select_related("ticket").get(pk=mail_id)


def build(mail: OutboundMail, connection: Any = None) -> EmailMessage:
    """The message as it goes on the wire, with threading and anti-loop headers."""
    sender = from_address(mail.ticket)
    headers = {
        "Message-ID": mail.message_id,
        # RFC 3834: automatic mail; well-behaved desks and vacation responders stay quiet.
        "Auto-Submitted": "auto-replied" if mail.in_reply_to else "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "Precedence": "bulk",
        "Content-Language": mail.language,
    }
    if mail.in_reply_to:
        headers["In-Reply-To"] = mail.in_reply_to
    if mail.references:
        headers["References"] = mail.references
    return EmailMessage(
        subject=mail.subject,
        body=mail.body,
        from_email=sender,
        to=list(mail.to),
        reply_to=[sender],
        headers=headers,
        connection=connection,
    )


def send_one(mail_id: int, connection: Any = None, now: dt.datetime | None = None) -> str:
    """Claim and send one row; returns its state afterwards ("" when not claimed)."""
    mail = claim(mail_id, now)
    if mail is None:
        return ""
    now = now or timezone.now()
    try:
        build(mail, connection).send(fail_silently=False)
    except (smtplib.SMTPException, OSError, ValueError) as error:
        give_up = mail.attempts >= settings.EMAIL_SEND_MAX_ATTEMPTS
        delay = BACKOFF_SECONDS[min(mail.attempts, len(BACKOFF_SECONDS)) - 1]
        state = OutboundMail.State.FAILED if give_up else OutboundMail.State.PENDING
        OutboundMail.objects.filter(pk=mail.pk, attempts=mail.attempts).update(
            state=state,
            error=f"{type(error).__name__}: {error}"[:4000],
            next_attempt_at=None if give_up else now + dt.timedelta(seconds=delay),
        )
        logger.warning("outbound mail %s attempt %s failed: %s", mail.pk, mail.attempts, error)
        return str(state)
    OutboundMail.objects.filter(pk=mail.pk).update(
        state=OutboundMail.State.SENT, sent_at=timezone.now(), error="", next_attempt_at=None
    )
    # The timeline shows what left the building (internal for staff notices).
    TicketEvent.objects.create(
        ticket=mail.ticket,
        kind=TicketEvent.Kind.MAIL_OUT,
        is_public=_to_requester(mail),
        body=mail.subject,
        data={"to": mail.to, "message_id": mail.message_id, "outbound_mail": mail.pk},
    )
    return str(OutboundMail.State.SENT)


def _to_requester(mail: OutboundMail) -> bool:
    ticket = mail.ticket
    addresses = {
        ticket.requester_email.lower(),
        (ticket.requester.email if ticket.requester else "").lower(),
        (ticket.requester_contact.email if ticket.requester_contact else "").lower(),
    } - {""}
    return bool(addresses & set(mail.to))


def send_due(now: dt.datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Send every due row (one SMTP connection for the batch); counts by outcome."""
    counts: dict[str, int] = {}
    ids = due_ids(now, limit)
    if not ids:
        return counts
    connection = get_connection(fail_silently=False)
    try:
        for mail_id in ids:
            outcome = send_one(mail_id, connection, now) or "skipped"
            counts[outcome] = counts.get(outcome, 0) + 1
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.close()
    return counts
