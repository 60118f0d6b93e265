"""Fetching new messages from an IMAP mailbox (standard library ``imaplib``).

The poller remembers the highest UID it stored and the folder's UIDVALIDITY. Each message is
stored raw (``inbound.store_raw``, its own committed transaction) *before* ``last_uid``
moves past it, so a crash loses nothing: the next poll fetches it again and the
(mailbox, Message-ID) constraint drops the duplicate. A new UIDVALIDITY means the server
renumbered the folder: we start again from UID 1 and rely on the same constraint.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from opsassure.servicedesk.mail import inbound
from opsassure.servicedesk.models import InboundMail, Mailbox

logger = logging.getLogger(__name__)
BATCH = 200  # messages per poll; the next poll (a minute later) continues
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_UID = re.compile(rb"UID (\d+)")


class MailboxError(Exception):
    """The IMAP server refused or failed; recorded on the mailbox, retried next poll."""


@dataclass
class PollResult:
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    mail_ids: list[int] = field(default_factory=list)


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    """An authenticated IMAP connection (TLS when ``imap_ssl``; STARTTLS is not guessed)."""
    timeout = float(settings.EMAIL_IMAP_TIMEOUT)
    client: imaplib.IMAP4
    if mailbox.imap_ssl:
        # Certificates are always verified; a private CA is added, never verification off.
        context = ssl.create_default_context(cafile=settings.EMAIL_IMAP_CA_FILE or None)
        client = imaplib.IMAP4_SSL(
            mailbox.imap_host, mailbox.imap_port, ssl_context=context, timeout=timeout
        )
    else:
        client = imaplib.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=timeout)
    client.login(mailbox.imap_username, mailbox.imap_password)
    return client


def _select(client: imaplib.IMAP4, folder: str) -> int:
    status, data = client.select(_quote(folder))
    if status != "OK":
        raise MailboxError(f"SELECT {folder}: {data!r}")
    response = client.response("UIDVALIDITY")[1]
    for item in response or []:
        if isinstance(item, bytes) and item.isdigit():
            return int(item)
    status, data = client.status(_quote(folder), "(UIDVALIDITY)")
    found = _UIDVALIDITY.search(data[0] if data and isinstance(data[0], bytes) else b"")
    if status != "OK" or not found:
        raise MailboxError(f"no UIDVALIDITY for {folder}")
    return int(found.group(1))


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _new_uids(client: imaplib.IMAP4, after: int) -> list[int]:
    status, data = client.uid("SEARCH", f"UID {after + 1}:*")
    if status != "OK":
        raise MailboxError(f"UID SEARCH: {data!r}")
    # "n:*" always matches the highest UID, even when it is below n: filter.
    return sorted(int(uid) for uid in (data[0] or b"").split() if int(uid) > after)


def _fetch(client: imaplib.IMAP4, uid: int, query: str) -> tuple[bytes, int]:
    status, data = client.uid("FETCH", str(uid), query)
    if status != "OK":
        raise MailboxError(f"UID FETCH {uid}: {data!r}")
    for item in data:
        if isinstance(item, tuple) and _UID.search(item[0]):
            size = _SIZE.search(item[0])
            return item[1], int(size.group(1)) if size else len(item[1])
        if isinstance(item, bytes) and _SIZE.search(item):
            size = _SIZE.search(item)
            return b"", int(size.group(1)) if size else 0
    return b"", 0


def poll(mailbox: Mailbox) -> PollResult:
    """Store every message newer than ``mailbox.last_uid`` as an InboundMail (raw, state new).

    Returns what was fetched; processing is the caller's next step (each stored mail on its
    own, so one bad message never stops the others). Raises MailboxError/OSError on server
    trouble after recording it in ``mailbox.last_error``.
    """
    result = PollResult()
    try:
        client = connect(mailbox)
    except (TimeoutError, OSError, imaplib.IMAP4.error) as error:
        _record_error(mailbox, error)
        raise MailboxError(str(error)) from error
    try:
        validity = _select(client, mailbox.imap_folder)
        if validity != mailbox.uid_validity:
            if mailbox.uid_validity:
                logger.warning(
                    "mailbox %s: UIDVALIDITY changed %s -> %s, refetching",
                    mailbox.pk,
                    mailbox.uid_validity,
                    validity,
                )
            Mailbox.objects.filter(pk=mailbox.pk).update(uid_validity=validity, last_uid=0)
            mailbox.uid_validity, mailbox.last_uid = validity, 0
        for uid in _new_uids(client, mailbox.last_uid)[:BATCH]:
            result.fetched += 1
            _, size = _fetch(client, uid, "(UID RFC822.SIZE)")
            if size > settings.EMAIL_MAX_MESSAGE_BYTES:
                raw, _ = _fetch(client, uid, "(UID BODY.PEEK[HEADER])")
                mail, created = inbound.store_raw(
                    mailbox,
                    raw,
                    uid=uid,
                    refused=f"message of {size} bytes exceeds "
                    f"{settings.EMAIL_MAX_MESSAGE_BYTES}; only its header was kept",
                )
            else:
                raw, _ = _fetch(client, uid, "(UID RFC822.SIZE BODY.PEEK[])")
                if not raw:  # expunged between SEARCH and FETCH: nothing to keep
                    Mailbox.objects.filter(pk=mailbox.pk, last_uid__lt=uid).update(last_uid=uid)
                    continue
                mail, created = inbound.store_raw(mailbox, raw, uid=uid)
            if created:
                result.stored += 1
                if mail.state == InboundMail.State.NEW:
                    result.mail_ids.append(mail.pk)
            else:
                result.duplicates += 1
            # Only after the row is committed: a crash before this line refetches the uid.
            Mailbox.objects.filter(pk=mailbox.pk, last_uid__lt=uid).update(last_uid=uid)
            mailbox.last_uid = max(mailbox.last_uid, uid)
            if created:
                client.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")
    except (OSError, imaplib.IMAP4.error, MailboxError) as error:
        _record_error(mailbox, error)
        raise MailboxError(str(error)) from error
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=timezone.now(), last_error="")
    return result


def _record_error(mailbox: Mailbox, error: BaseException) -> None:
    logger.warning("mailbox %s: %s", mailbox.pk, error)
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_polled_at=timezone.now(), last_error=f"{type(error).__name__}: {error}"[:2000]
    )
