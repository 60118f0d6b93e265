"""Polling a real Dovecot: raw storage, UIDs, UIDVALIDITY, duplicates, limits, server errors."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.test import override_settings

from opsassure.servicedesk.mail import imap
from opsassure.servicedesk.models import InboundMail, Mailbox
from tests.conftest import World
from tests.servicedesk.mail.conftest import make_mailbox
from tests.servicedesk.mail.servers import Dovecot

pytestmark = pytest.mark.mailserver


def mail(message_id: str | None, subject: str = "Printer down", body: str = "help") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Li Lei <li.lei@hospital.example.cn>"
    message["To"] = "desk@desk.opsassure.test"
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    message.set_content(body)
    return message


def test_poll_stores_raw_mail_and_moves_last_uid(world: World, dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot, world.customer_a)
    first, second = mail("<p-1@hospital>", "打印机故障"), mail("<p-2@hospital>")
    dovecot.deliver(mailbox.imap_username, first)
    dovecot.deliver(mailbox.imap_username, second)

    result = imap.poll(mailbox)

    assert (result.fetched, result.stored, result.duplicates) == (2, 2, 0)
    rows = list(InboundMail.objects.order_by("uid"))
    assert [(r.uid, r.message_id, r.subject, r.state) for r in rows] == [
        (1, "<p-1@hospital>", "打印机故障", "new"),
        (2, "<p-2@hospital>", "Printer down", "new"),
    ]
    assert rows[0].sender == "Li Lei <li.lei@hospital.example.cn>"
    assert bytes(rows[0].raw) == first.as_bytes().replace(b"\n", b"\r\n")
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 2
    assert mailbox.uid_validity > 0
    assert mailbox.last_error == ""
    assert mailbox.last_polled_at is not None
    assert dovecot.seen_flags(mailbox.imap_username) == [True, True]

    # Nothing new: nothing fetched.
    assert imap.poll(mailbox).fetched == 0
    dovecot.deliver(mailbox.imap_username, mail("<p-3@hospital>"))
    assert imap.poll(mailbox).stored == 1
    assert InboundMail.objects.count() == 3


def test_duplicate_message_id_is_stored_once(world: World, dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot, world.customer_a)
    dovecot.deliver(mailbox.imap_username, mail("<same@hospital>"))
    dovecot.deliver(mailbox.imap_username, mail("<same@hospital>", "resent"))
    result = imap.poll(mailbox)
    assert (result.fetched, result.stored, result.duplicates) == (2, 1, 1)
    assert list(InboundMail.objects.values_list("message_id", "subject")) == [
        ("<same@hospital>", "Printer down")
    ]


def test_missing_message_id_is_deduplicated_by_content(world: World, dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot, world.customer_a)
    no_id = mail(None).as_bytes()
    dovecot.deliver(mailbox.imap_username, no_id)
    dovecot.deliver(mailbox.imap_username, no_id)
    result = imap.poll(mailbox)
    assert (result.stored, result.duplicates) == (1, 1)
    assert InboundMail.objects.get().message_id.endswith("@missing-message-id.opsassure>")


def test_new_uidvalidity_refetches_without_duplicates(world: World, dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot, world.customer_a, folder="Tickets")
    dovecot.deliver(mailbox.imap_username, mail("<v-1@hospital>"), folder="Tickets")
    assert imap.poll(mailbox).stored == 1
    mailbox.refresh_from_db()
    old_validity = mailbox.uid_validity

    # The folder is recreated: the server renumbers it with a new UIDVALIDITY.
    with dovecot.client(mailbox.imap_username) as client:
        assert client.delete("Tickets")[0] == "OK"
    dovecot.deliver(mailbox.imap_username, mail("<v-1@hospital>"), folder="Tickets")
    with dovecot.client(mailbox.imap_username) as client:
        client.append("Tickets", "", None, mail("<v-2@hospital>").as_bytes())

    result = imap.poll(mailbox)
    mailbox.refresh_from_db()
    assert mailbox.uid_validity != old_validity
    assert (result.fetched, result.stored, result.duplicates) == (2, 1, 1)
    assert sorted(InboundMail.objects.values_list("message_id", flat=True)) == [
        "<v-1@hospital>",
        "<v-2@hospital>",
    ]
    assert mailbox.last_uid == 2


@override_settings(EMAIL_MAX_MESSAGE_BYTES=2000)
def test_oversized_message_keeps_its_header_for_inspection(world: World, dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot, world.customer_a)
    dovecot.deliver(mailbox.imap_username, mail("<big@hospital>", body="x" * 5000))
    dovecot.deliver(mailbox.imap_username, mail("<small@hospital>"))
    result = imap.poll(mailbox)
    assert result.stored == 2
    big = InboundMail.objects.get(message_id="<big@hospital>")
    assert big.state == InboundMail.State.FAILED
    assert "exceeds 2000" in big.error
    assert b"Subject: Printer down" in bytes(big.raw)
    assert b"xxxx" not in bytes(big.raw)
    assert result.mail_ids == [InboundMail.objects.get(message_id="<small@hospital>").pk]


def test_server_errors_are_recorded_on_the_mailbox(world: World, dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot, world.customer_a)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_password="wrong")
    mailbox.refresh_from_db()
    with pytest.raises(imap.MailboxError):
        imap.poll(mailbox)
    mailbox.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in mailbox.last_error or "failed" in mailbox.last_error
    assert InboundMail.objects.count() == 0


def test_one_poller_per_mailbox_at_a_time(world: World, dovecot: Dovecot) -> None:
    from opsassure.core.services import hold_lease
    from opsassure.servicedesk.mail import tasks

    mailbox = make_mailbox(dovecot, world.customer_a)
    dovecot.deliver(mailbox.imap_username, mail("<lease@hospital>"))
    assert hold_lease(f"sdmail-poll-{mailbox.pk}", "another-worker", 60)
    assert tasks.poll_mailbox(mailbox.pk) == 0
    assert InboundMail.objects.count() == 0


def test_poll_mail_command_and_the_every_minute_schedules(world: World, dovecot: Dovecot) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    from opsassure.servicedesk.mail.schedule import ensure_mail_schedule

    mailbox = make_mailbox(dovecot, world.customer_a)
    dovecot.deliver(mailbox.imap_username, mail("<cmd@hospital>", body="no sender match"))
    out = StringIO()
    call_command("poll_mail", "--mailbox", str(mailbox.pk), "--no-send", stdout=out)
    assert "fetched 1, stored 1, duplicates 0" in out.getvalue()
    # Nobody at the hospital has that address: kept for inspection, not lost.
    assert InboundMail.objects.get().state == InboundMail.State.FAILED

    ensure_mail_schedule()
    ensure_mail_schedule()  # idempotent: run after every migrate
    schedules = {
        task.task: (task.interval.every, task.interval.period, task.enabled)
        for task in PeriodicTask.objects.filter(task__startswith="opsassure.servicedesk.mail.")
    }
    assert schedules == {
        "opsassure.servicedesk.mail.tasks.poll_mailboxes": (1, "minutes", True),
        "opsassure.servicedesk.mail.tasks.notify_mail_sweep": (1, "minutes", True),
    }


def test_imaps_verifies_the_server_certificate(world: World, dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot, world.customer_a)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_ssl=True, imap_port=dovecot.tls_port)
    mailbox.refresh_from_db()
    dovecot.deliver(mailbox.imap_username, mail("<tls@hospital>"))

    # A certificate nobody vouches for: refused, recorded, nothing fetched.
    with pytest.raises(imap.MailboxError):
        imap.poll(mailbox)
    mailbox.refresh_from_db()
    assert "CERTIFICATE_VERIFY_FAILED" in mailbox.last_error
    assert InboundMail.objects.count() == 0

    # With the server's CA configured, the same mailbox is polled over TLS.
    with override_settings(EMAIL_IMAP_CA_FILE=str(dovecot.root / "cert.pem")):
        assert imap.poll(mailbox).stored == 1
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""
