"""Mail channel tasks (thin: the work lives in ``imap``, ``inbound`` and ``sending``).

Every task is idempotent: messages say "look at mailbox N / mail N"; the rows decide.
"""

from __future__ import annotations

import logging
import socket
import uuid

from celery import shared_task

from opsassure.core.models.health import Lease
from opsassure.core.services import hold_lease
from opsassure.servicedesk.mail import imap, inbound, sending
from opsassure.servicedesk.models import Mailbox

logger = logging.getLogger(__name__)
POLL_LEASE_SECONDS = 600.0


@shared_task(name="opsassure.servicedesk.mail.tasks.poll_mailboxes", ignore_result=True)
def poll_mailboxes() -> int:
    """Every minute: one poll task per active mailbox. Returns how many were sent."""
    ids = list(Mailbox.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    for mailbox_id in ids:
        poll_mailbox.delay(mailbox_id)
    return len(ids)


@shared_task(name="opsassure.servicedesk.mail.tasks.poll_mailbox", ignore_result=True)
def poll_mailbox(mailbox_id: int) -> int:
    """Fetch and store new mail of one mailbox, then process each stored mail on its own.

    Returns the number of mails stored. Server trouble is recorded on the mailbox and the
    next poll tries again; a bad message fails alone and never stops the others.
    """
    mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).first()
    if mailbox is None:
        return 0
    # One poller per mailbox at a time (a slow poll must not overlap the next minute's).
    lease, holder = f"sdmail-poll-{mailbox_id}", f"{socket.gethostname()}:{uuid.uuid4().hex}"
    if not hold_lease(lease, holder, POLL_LEASE_SECONDS):
        return 0
    try:
        result = imap.poll(mailbox)
    except imap.MailboxError:
        return 0
    finally:
        Lease.objects.filter(name=lease, holder=holder).delete()
    for mail_id in result.mail_ids:
        process_inbound_mail.delay(mail_id)
    return result.stored


@shared_task(name="opsassure.servicedesk.mail.tasks.process_inbound_mail", ignore_result=True)
def process_inbound_mail(mail_id: int) -> str:
    """Process one stored mail (a no-op when another worker has it or it is done)."""
    mail = inbound.process(mail_id)
    return "" if mail is None else str(mail.state)


@shared_task(name="opsassure.servicedesk.mail.tasks.notify_send_mail", ignore_result=True)
def notify_send_mail() -> dict[str, int]:
    """Send the outbound mail that is due."""
    return sending.send_due()


@shared_task(name="opsassure.servicedesk.mail.tasks.notify_mail_sweep", ignore_result=True)
def notify_mail_sweep() -> dict[str, int]:
    """Every minute: send due outbound mail and retry failed inbound mail (bounded)."""
    retried = 0
    for mail_id in inbound.due_for_retry():
        if inbound.process(mail_id) is not None:
            retried += 1
    counts = sending.send_due()
    counts["inbound_retried"] = retried
    return counts
