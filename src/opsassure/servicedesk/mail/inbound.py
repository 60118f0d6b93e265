"""Inbound mail: store raw first, then process; failures are kept, retried a bounded number
of times, never lost.

States of an InboundMail: ``new`` (stored, not yet processed, or being processed),
``processed`` (a ticket was opened or updated), ``ignored`` (auto-reply, bulk or loop) and
``failed`` (the error is kept; retried by the sweep until ``MAX_ATTEMPTS``, then left for a
person to inspect and reprocess). A worker claims a row with a conditional UPDATE on
``attempts`` so two workers never process the same attempt.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
from email.utils import parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from opsassure.servicedesk.mail import parsing
from opsassure.servicedesk.models import InboundMail, Mailbox

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 4  # the first attempt and at most three retries by the sweep
CLAIM_SECONDS = 600  # a claimed row whose worker died is retried after this
RETRY_DELAYS = (60, 300, 900)  # seconds before retry 1, 2, 3


def own_addresses() -> set[str]:
    """Addresses that are us: every mailbox and the From of our notifications (loops)."""
    addresses = {address.lower() for address in Mailbox.objects.values_list("address", flat=True)}
    default_from = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()
    if default_from:
        addresses.add(default_from)
    return addresses


def _preview(raw: bytes) -> tuple[str, str, str]:
    """Message-ID, sender and subject for the row, from the header alone (never raises)."""
    try:
        message_id = parsing.read_message_id(raw)
    except Exception:
        message_id = parsing.stable_message_id(raw)
    try:
        head = raw[: min(parsing.header_block_size(raw), settings.EMAIL_MAX_HEADER_BYTES)]
        message = email.message_from_bytes(head + b"\r\n\r\n", policy=email.policy.default)
        sender = parsing.decode_header_value(parsing.raw_header(message, "From"))
        subject = parsing.decode_header_value(parsing.raw_header(message, "Subject"))
    except Exception:
        sender, subject = "", ""
    return message_id, sender[:320], subject[: parsing.MAX_HEADER_VALUE]


def store_raw(
    mailbox: Mailbox, raw: bytes, *, uid: int | None = None, refused: str = ""
) -> tuple[InboundMail, bool]:
    """Store one fetched message (committed on return); ``(row, False)`` for a duplicate.

    ``refused`` stores it as failed with that reason and no retries (e.g. too large).
    """
    message_id, sender, subject = _preview(raw)
    values = {
        "uid": uid,
        "raw": raw,
        "sender": sender,
        "subject": subject,
        "state": InboundMail.State.FAILED if refused else InboundMail.State.NEW,
        "error": refused,
        "attempts": MAX_ATTEMPTS if refused else 0,
    }
    try:
        with transaction.atomic():
            mail = InboundMail.objects.create(mailbox=mailbox, message_id=message_id, **values)
    except IntegrityError:
        existing = InboundMail.objects.filter(mailbox=mailbox, message_id=message_id).first()
        if existing is None:  # not the unique constraint: re-raise the real error
            raise
        return existing, False
    return mail, True


def claim(mail_id: int, *, force: bool = False, now: dt.datetime | None = None) -> bool:
    """Take ``mail_id`` for one processing attempt; False when another worker has it, it is
    done, or its attempts are used up (``force``: a person asked, any state but processed)."""
    now = now or timezone.now()
    row = InboundMail.objects.filter(pk=mail_id).values("state", "attempts", "next_attempt_at")
    found = row.first()
    if found is None:
        return False
    if force:
        if found["state"] == InboundMail.State.PROCESSED:
            return False
    else:
        if found["state"] not in (InboundMail.State.NEW, InboundMail.State.FAILED):
            return False
        if found["attempts"] >= MAX_ATTEMPTS:
            return False
        if found["next_attempt_at"] is not None and found["next_attempt_at"] > now:
            return False
    claimed = InboundMail.objects.filter(
        pk=mail_id, attempts=found["attempts"], state=found["state"]
    ).update(
        attempts=F("attempts") + 1,
        state=InboundMail.State.NEW,
        next_attempt_at=now + dt.timedelta(seconds=CLAIM_SECONDS),
    )
    return claimed == 1


def process(
    mail_id: int, *, force: bool = False, now: dt.datetime | None = None
) -> InboundMail | None:
    """Claim and process one stored mail; returns the row afterwards, None if not claimed.

    Never raises for a bad message: the error is kept on the row (state failed).
    """
    now = now or timezone.now()
    if not claim(mail_id, force=force, now=now):
        return None
    from opsassure.servicedesk.mail import tickets

    mail = InboundMail.objects.select_related("mailbox").get(pk=mail_id)
    try:
        with transaction.atomic():
            tickets.import_mail(mail)
    except Exception as error:
        if not isinstance(error, tickets.EXPECTED_ERRORS):
            logger.exception("inbound mail %s failed", mail_id)
        _fail(mail, error, now)
    mail.refresh_from_db()
    return mail


def _fail(mail: InboundMail, error: BaseException, now: dt.datetime) -> None:
    attempts = InboundMail.objects.filter(pk=mail.pk).values_list("attempts", flat=True)[0]
    retry_at = None
    if attempts < MAX_ATTEMPTS:
        delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
        retry_at = now + dt.timedelta(seconds=delay)
    message = str(error) or type(error).__name__
    InboundMail.objects.filter(pk=mail.pk).update(
        state=InboundMail.State.FAILED,
        error=message[:4000],
        next_attempt_at=retry_at,
    )


def due_for_retry(now: dt.datetime | None = None, limit: int = 100) -> list[int]:
    """Ids the sweep should (re)process: failed with retries left, or new and unclaimed
    (the task that should have processed it was lost), or claimed by a dead worker."""
    now = now or timezone.now()
    return list(
        InboundMail.objects.filter(
            state__in=(InboundMail.State.NEW, InboundMail.State.FAILED),
            attempts__lt=MAX_ATTEMPTS,
        )
        .filter(
            Q(next_attempt_at__lte=now)
            | Q(next_attempt_at__isnull=True, received_at__lte=now - dt.timedelta(minutes=2))
        )
        .order_by("received_at", "id")
        .values_list("id", flat=True)[:limit]
    )
