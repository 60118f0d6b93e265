"""Inbound mail end to end: Dovecot → poller → InboundMail → ticket (real IMAP, no mocks)."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from opsassure.core.models import CustomerContact
from opsassure.servicedesk import services
from opsassure.servicedesk.mail import inbound, parsing, tasks
from opsassure.servicedesk.models import (
    Attachment,
    InboundMail,
    Mailbox,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from tests.conftest import World, api_as
from tests.servicedesk.mail.conftest import make_mailbox
from tests.servicedesk.mail.servers import Dovecot

pytestmark = pytest.mark.mailserver

HOSPITAL_USER = "liu.min@hospital.example.cn"
Poll = Callable[..., list[InboundMail]]


def mail(
    message_id: str | None,
    *,
    sender: str = f"Liu Min <{HOSPITAL_USER}>",
    subject: str = "打印机故障 Printer down",
    body: str = "三楼打印机无法打印。",
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "desk@desk.opsassure.test"
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


@pytest.fixture
def desk(sd: World, dovecot: Dovecot) -> Mailbox:
    sd.customer_a_user.email = HOSPITAL_USER
    sd.customer_a_user.save()
    sd.engineer_a.email = "engineer.a@ops.example.cn"
    sd.engineer_a.save()
    return make_mailbox(dovecot, sd.customer_a)


@pytest.fixture
def poll(dovecot: Dovecot, django_capture_on_commit_callbacks: Any) -> Poll:
    """Deliver messages into the mailbox and run the poll task (eager Celery, after-commit
    hooks executed) — the production path: store raw, then process each mail."""

    def run(mailbox: Mailbox, *messages: EmailMessage | bytes) -> list[InboundMail]:
        for message in messages:
            dovecot.deliver(mailbox.imap_username, message)
        before = set(InboundMail.objects.values_list("pk", flat=True))
        with django_capture_on_commit_callbacks(execute=True):
            tasks.poll_mailbox(mailbox.pk)
        return list(InboundMail.objects.exclude(pk__in=before).order_by("uid"))

    return run


def test_new_mail_opens_a_ticket_for_the_matched_user(sd: World, desk: Mailbox, poll: Poll) -> None:
    [stored] = poll(desk, mail("<new-1@hospital.example.cn>"))
    assert (stored.state, stored.error, stored.attempts) == ("processed", "", 1)
    ticket = stored.ticket
    assert ticket is not None
    assert ticket.number.startswith("INC-")
    assert (ticket.customer, ticket.channel, ticket.requester) == (
        sd.customer_a,
        "email",
        sd.customer_a_user,
    )
    assert ticket.title == "打印机故障 Printer down"
    assert ticket.description == "三楼打印机无法打印。"
    assert ticket.requester_email == HOSPITAL_USER
    assert ticket.mail_thread_id == "<new-1@hospital.example.cn>"


def test_reply_is_threaded_by_in_reply_to(sd: World, desk: Mailbox, poll: Poll) -> None:
    [first] = poll(desk, mail("<t-1@hospital.example.cn>"))
    [reply] = poll(
        desk,
        mail(
            "<t-2@hospital.example.cn>",
            subject="Re: something else entirely",
            body="还是不行",
            In_Reply_To="<t-1@hospital.example.cn>",
            References="<t-1@hospital.example.cn>",
        ),
    )
    assert reply.state == "processed"
    assert reply.ticket == first.ticket
    assert Ticket.objects.count() == 1
    event = TicketEvent.objects.get(ticket=first.ticket, kind=TicketEvent.Kind.MAIL_IN)
    assert (event.body, event.actor, event.is_public) == ("还是不行", sd.customer_a_user, True)
    assert event.data == {"from": HOSPITAL_USER}


QUOTED_REPLIES = {
    "foxmail": (
        "重启后恢复了，谢谢。\n\n"
        "在 2026年11月27日 星期五 10:02，服务台 <desk@ops.example.cn> 写道：\n"
        "> 请重启打印服务。\n> 三楼打印机无法打印。\n"
    ),
    "qqmail": (
        "重启后恢复了，谢谢。\n\n------------------ 原始邮件 ------------------\n"
        '发件人: "服务台"<desk@ops.example.cn>;\n发送时间: 2026年11月27日(星期五) 上午10:02\n'
        '收件人: "王芳"<user@hospital.example.cn>;\n主题: 打印机故障\n\n请重启打印服务。\n'
    ),
    "outlook-zh": (
        "重启后恢复了，谢谢。\n\n发件人：服务台\n时间：2026-11-27 10:02\n收件人：王芳\n"
        "主题：打印机故障\n\n请重启打印服务。\n"
    ),
    "gmail-en": (
        "重启后恢复了，谢谢。\n\n"
        "On Fri, Nov 27, 2026 at 10:02 AM Desk <desk@ops.example.cn> wrote:\n"
        "> 请重启打印服务。\n"
    ),
}


@pytest.mark.parametrize("client", sorted(QUOTED_REPLIES))
def test_reply_on_the_timeline_without_the_quoted_conversation(
    sd: World, desk: Mailbox, poll: Poll, client: str
) -> None:
    [first] = poll(desk, mail("<q-1@hospital.example.cn>"))
    [reply] = poll(
        desk,
        mail(
            "<q-2@hospital.example.cn>",
            subject="Re: 打印机故障",
            body=QUOTED_REPLIES[client],
            In_Reply_To="<q-1@hospital.example.cn>",
        ),
    )
    assert reply.ticket == first.ticket
    event = TicketEvent.objects.get(ticket=first.ticket, kind=TicketEvent.Kind.MAIL_IN)
    assert event.body == "重启后恢复了，谢谢。"
    # The whole mail is kept.
    assert parsing.parse_message(bytes(reply.raw)).text == QUOTED_REPLIES[client].strip()


def test_reply_is_threaded_by_subject_token_for_known_senders_only(
    sd: World, desk: Mailbox, poll: Poll
) -> None:
    [first] = poll(desk, mail("<k-1@hospital.example.cn>"))
    ticket = first.ticket
    assert ticket is not None
    [reply] = poll(desk, mail("<k-2@hospital.example.cn>", subject=f"Re: [{ticket.number}] x"))
    assert reply.ticket == ticket
    # A stranger who knows the number does not get into the ticket.
    [stranger] = poll(
        desk,
        mail(
            "<k-3@elsewhere.example>",
            sender="mallory@elsewhere.example",
            subject=f"[{ticket.number}] let me in",
        ),
    )
    assert stranger.ticket is None
    assert stranger.state == "failed"
    assert "Unknown sender mallory@elsewhere.example" in stranger.error
    assert Ticket.objects.count() == 1


def test_duplicate_message_id_opens_one_ticket(sd: World, desk: Mailbox, poll: Poll) -> None:
    stored = poll(desk, mail("<dup@hospital.example.cn>"), mail("<dup@hospital.example.cn>"))
    assert len(stored) == 1
    assert Ticket.objects.count() == 1
    assert InboundMail.objects.count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"X_Autoreply": "yes"},
        {"X_Auto_Response_Suppress": "All"},
    ],
)
def test_auto_replies_are_ignored(
    sd: World, desk: Mailbox, poll: Poll, headers: dict[str, str]
) -> None:
    [stored] = poll(desk, mail("<ooo@hospital.example.cn>", subject="自动回复: 休假", **headers))
    assert stored.state == "ignored"
    assert stored.ticket is None
    assert stored.error  # says why
    assert Ticket.objects.count() == 0


def test_mail_from_our_own_address_is_a_loop_and_ignored(
    sd: World, desk: Mailbox, poll: Poll
) -> None:
    [stored] = poll(desk, mail("<loop@desk>", sender=f"Desk <{desk.address.upper()}>"))
    assert (stored.state, stored.error) == ("ignored", "From is one of our own mailboxes")
    [bounce] = poll(desk, mail("<bounce@mx>", sender="MAILER-DAEMON@mx.example.cn"))
    assert bounce.state == "ignored"
    assert Ticket.objects.count() == 0


def test_gb18030_subject_and_body_are_decoded(sd: World, desk: Mailbox, poll: Poll) -> None:
    subject = "服务器宕机 镕 𠀀"
    body = "机房 3 号柜服务器无法启动。镕"
    raw = (
        f"From: {HOSPITAL_USER}\r\nTo: desk@desk.opsassure.test\r\n"
        "Message-ID: <gb@hospital.example.cn>\r\n"
        f"Subject: =?gb2312?B?{base64.b64encode(subject.encode('gb18030')).decode()}?=\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=GB2312\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        f"{base64.b64encode(body.encode('gb18030')).decode()}\r\n"
    ).encode()
    [stored] = poll(desk, raw)
    assert stored.state == "processed"
    assert stored.subject == subject
    assert stored.ticket is not None
    assert (stored.ticket.title, stored.ticket.description) == (subject, body)


def test_html_mail_is_imported_as_text_without_script(sd: World, desk: Mailbox, poll: Poll) -> None:
    message = mail("<html@hospital.example.cn>")
    message.set_content(
        "<p>Disk <b>full</b></p><script>document.location='https://evil'</script>"
        "<style>p{}</style><div>&lt;script&gt;alert(1)&lt;/script&gt;</div>",
        subtype="html",
    )
    [stored] = poll(desk, message)
    assert stored.ticket is not None
    assert stored.ticket.description == "Disk full\n\n<script>alert(1)</script>"
    # What was text stays text: shown escaped on the inspection page.
    page = api_as(sd.manager).get(stored.get_absolute_url())
    html = page.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "evil" not in html.split('data-testid="mail-text"')[1].split("</pre>")[0]


def test_broken_mime_is_imported_safely(sd: World, desk: Mailbox, poll: Poll) -> None:
    raw = (
        f"From: {HOSPITAL_USER}\r\nSubject: broken\r\nMessage-ID: <broken@h>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
        "--never-closed\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "网络中断\r\n--never-closed\r\nContent-Type: application/octet-stream\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n!!!!not base64\r\n"
    ).encode()
    [stored] = poll(desk, raw)
    assert stored.state == "processed"
    assert stored.ticket is not None
    assert stored.ticket.description == "网络中断"


@override_settings(EMAIL_MAX_HEADER_BYTES=4096)
def test_hostile_mail_is_kept_for_inspection_and_the_poller_goes_on(
    sd: World, desk: Mailbox, poll: Poll
) -> None:
    hostile = mail("<huge@hospital.example.cn>", X_Junk="A" * 5000)
    stored = poll(desk, hostile, mail("<fine@hospital.example.cn>"))
    assert [(m.message_id, m.state) for m in stored] == [
        ("<huge@hospital.example.cn>", "failed"),
        ("<fine@hospital.example.cn>", "processed"),
    ]
    assert "header block" in stored[0].error
    assert bytes(stored[0].raw).startswith(b"From: ")  # raw kept, nothing lost
    assert Ticket.objects.count() == 1


def test_unknown_sender_is_refused_or_opens_a_ticket_per_mailbox_setting(
    sd: World, desk: Mailbox, dovecot: Dovecot, poll: Poll
) -> None:
    stranger = "Wang Wu <wang.wu@gmail.example>"
    [refused] = poll(desk, mail("<u-1@gmail>", sender=stranger))
    assert refused.state == "failed"
    assert "Unknown sender wang.wu@gmail.example" in refused.error
    assert Ticket.objects.count() == 0

    open_desk = make_mailbox(dovecot, sd.customer_a, unknown_sender=Mailbox.UnknownSender.CONTACT)
    [opened] = poll(open_desk, mail("<u-2@gmail>", sender=stranger))
    assert opened.state == "processed"
    assert opened.ticket is not None
    assert (opened.ticket.customer, opened.ticket.requester, opened.ticket.requester_contact) == (
        sd.customer_a,
        None,
        None,
    )
    assert (opened.ticket.requester_name, opened.ticket.requester_email) == (
        "Wang Wu",
        "wang.wu@gmail.example",
    )


def test_provider_wide_mailbox_finds_the_customer_from_a_contact(
    sd: World, dovecot: Dovecot, poll: Poll
) -> None:
    contact = CustomerContact.objects.create(
        customer=sd.customer_b, name="赵六", email="Zhao.Liu@Broker.example.cn"
    )
    shared = make_mailbox(dovecot, None)
    [stored] = poll(shared, mail("<c-1@broker>", sender="zhao.liu@broker.example.cn"))
    assert stored.state == "processed"
    assert stored.ticket is not None
    assert (stored.ticket.customer, stored.ticket.requester_contact) == (sd.customer_b, contact)
    # A provider-wide mailbox cannot open a ticket for a sender nobody knows.
    Mailbox.objects.filter(pk=shared.pk).update(unknown_sender=Mailbox.UnknownSender.CONTACT)
    [unknown] = poll(shared, mail("<c-2@x>", sender="who@nowhere.example"))
    assert unknown.state == "failed"


@override_settings(OPSASSURE_ATTACHMENT_MAX_BYTES=1000)
def test_attachments_are_kept_and_refused_ones_are_dropped_with_a_note(
    sd: World, desk: Mailbox, poll: Poll
) -> None:
    message = mail("<att@hospital.example.cn>")
    message.add_attachment(
        b"%PDF-1.4 small", maintype="application", subtype="pdf", filename="故障报告.pdf"
    )
    message.add_attachment(b"\0" * 1001, maintype="application", subtype="pdf", filename="huge.pdf")
    message.add_attachment(
        b"<script>alert(1)</script>", maintype="text", subtype="html", filename="x.html"
    )
    [stored] = poll(desk, message)
    assert stored.state == "processed", stored.error
    ticket = stored.ticket
    assert ticket is not None
    kept = Attachment.objects.filter(ticket=ticket)
    assert list(kept.values_list("filename", "size", "content_type", "is_public")) == [
        ("故障报告.pdf", 14, "application/pdf", True)
    ]
    notes = list(
        TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.NOTE)
        .order_by("pk")
        .values_list("body", "is_public")
    )
    assert len(notes) == 2
    assert "huge.pdf" in notes[0][0]
    assert "x.html" in notes[1][0]
    assert [public for _body, public in notes] == [False, False]
    assert "huge.pdf" in stored.error
    assert "x.html" in stored.error


def test_mail_to_a_closed_ticket_opens_a_new_one(sd: World, desk: Mailbox, poll: Poll) -> None:
    [first] = poll(desk, mail("<cl-1@hospital.example.cn>"))
    assert first.ticket is not None
    Ticket.objects.filter(pk=first.ticket.pk).update(status=TicketStatus.CLOSED)
    [later] = poll(desk, mail("<cl-2@h>", In_Reply_To="<cl-1@hospital.example.cn>"))
    assert later.state == "processed"
    assert later.ticket is not None
    assert later.ticket != first.ticket


def test_failures_are_retried_three_times_then_left_for_inspection(
    sd: World, desk: Mailbox, poll: Poll, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: Any) -> None:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(services, "create_ticket", broken)
    [stored] = poll(desk, mail("<retry@hospital.example.cn>"))
    assert (stored.state, stored.attempts, stored.error) == ("failed", 1, "database hiccup")
    assert stored.next_attempt_at is not None

    now = timezone.now()
    assert inbound.due_for_retry(now) == []  # not before its back-off
    for attempt in (2, 3, 4):
        now += dt.timedelta(hours=1)
        assert inbound.due_for_retry(now) == [stored.pk]
        processed = inbound.process(stored.pk, now=now)
        assert processed is not None
        assert (processed.state, processed.attempts) == ("failed", attempt)
    stored.refresh_from_db()
    assert stored.next_attempt_at is None
    assert inbound.due_for_retry(now + dt.timedelta(days=30)) == []  # never retried forever
    assert inbound.process(stored.pk, now=now + dt.timedelta(days=30)) is None

    # A person fixes the cause and reprocesses it from the inspection list.
    monkeypatch.undo()
    response = api_as(sd.manager).post(f"/api/v1/servicedesk/inbound-mails/{stored.pk}/reprocess/")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "processed"
    assert response.json()["attempts"] == 5
    assert Ticket.objects.count() == 1
    again = api_as(sd.manager).post(f"/api/v1/servicedesk/inbound-mails/{stored.pk}/reprocess/")
    assert again.status_code == 409


def test_sweep_processes_mail_whose_task_was_lost(sd: World, desk: Mailbox) -> None:
    stored, created = inbound.store_raw(desk, mail("<lost@hospital.example.cn>").as_bytes())
    assert created
    InboundMail.objects.filter(pk=stored.pk).update(
        received_at=timezone.now() - dt.timedelta(minutes=5)
    )
    result = tasks.notify_mail_sweep()
    assert result["inbound_retried"] == 1
    stored.refresh_from_db()
    assert stored.state == "processed"
