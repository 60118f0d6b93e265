"""``opsassure manage poll_mail``: poll mailboxes now, in this process (cron or debugging)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from opsassure.servicedesk.mail import imap, inbound, sending
from opsassure.servicedesk.models import Mailbox


class Command(BaseCommand):
    help = "Fetch new mail from the active IMAP mailboxes, process it and send due mail."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", type=int, action="append", help="mailbox id(s)")
        parser.add_argument("--no-send", action="store_true", help="do not send the outbox")

    def handle(self, *args: Any, **options: Any) -> None:
        mailboxes = Mailbox.objects.filter(is_active=True).order_by("pk")
        if options["mailbox"]:
            mailboxes = mailboxes.filter(pk__in=options["mailbox"])
        for mailbox in mailboxes:
            try:
                result = imap.poll(mailbox)
            except imap.MailboxError as error:
                self.stderr.write(f"{mailbox}: {error}")
                continue
            states: dict[str, int] = {}
            for mail_id in result.mail_ids:
                mail = inbound.process(mail_id)
                if mail is not None:
                    states[mail.state] = states.get(mail.state, 0) + 1
            self.stdout.write(
                f"{mailbox}: fetched {result.fetched}, stored {result.stored}, "
                f"duplicates {result.duplicates}, {states}"
            )
        for mail_id in inbound.due_for_retry():
            inbound.process(mail_id)
        if not options["no_send"]:
            self.stdout.write(f"sent: {sending.send_due()}")
