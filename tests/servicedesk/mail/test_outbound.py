"""Outbound mail end to end: timeline event → OutboundMail → real SMTP server (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from opsassure.servicedesk import services
from opsassure.servicedesk.mail import sending, tasks
from opsassure.servicedesk.models import InboundMail, Mailbox, OutboundMail, Ticket
from tests.conftest import World
from tests.servicedesk.mail.conftest import make_mailbox
from tests.servicedesk.mail.servers import Dovecot, SmtpSink, free_port

pytestmark = pytest.mark.mailserver

CUSTOMER = "liu.min@hospital.example.cn"


def customer_mail(message_id: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Liu Min <{CUSTOMER}>"
    message["To"] = "desk@desk.opsassure.test"
    message["Subject"] = headers.pop("Subject", "VPN 无法连接")
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("VPN 从早上开始无法连接。")
    return message


@pytest.fixture
def desk(sd: World, dovecot: Dovecot) -> Mailbox:
    sd.customer_a_user.email = CUSTOMER
    sd.customer_a_user.language = "en"
    sd.customer_a_user.save()
    sd.engineer_a.email = "engineer.a@ops.example.cn"
    sd.engineer_a.language = "zh-hans"
    sd.engineer_a.save()
    return make_mailbox(dovecot, sd.customer_a, address="desk-a@desk.opsassure.test")


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Run ``action`` and then its after-commit hooks (signals, outbox, eager send task)."""

    def run(action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def _poll(dovecot: Dovecot, mailbox: Mailbox, committed: Any, message: Any) -> InboundMail:
    dovecot.deliver(mailbox.imap_username, message)
    committed(tasks.poll_mailbox, mailbox.pk)
    return InboundMail.objects.order_by("-pk").first()  # type: ignore[return-value]


def test_replies_thread_in_mail_clients_and_speak_the_recipients_language(
    sd: World, desk: Mailbox, dovecot: Dovecot, smtp: SmtpSink, committed: Any
) -> None:
    first = _poll(dovecot, desk, committed, customer_mail("<vpn-1@hospital.example.cn>"))
    ticket = first.ticket
    assert ticket is not None

    # 1. The acknowledgement answers the customer's mail.
    [ack] = smtp.messages
    assert ack["To"] == CUSTOMER
    assert ack["From"] == f"{desk.name} <desk-a@desk.opsassure.test>"
    # Django folds a non-ASCII subject after "Subject:"; readers drop that leading space.
    assert ack["Subject"].strip() == f"[{ticket.number}] Ticket received: VPN 无法连接"
    assert ack["In-Reply-To"] == "<vpn-1@hospital.example.cn>"
    assert ack["References"] == "<vpn-1@hospital.example.cn>"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["Message-ID"].endswith("@desk.opsassure.test>")
    assert ack["Content-Language"] == "en"
    assert "Status:" in ack.get_content()

    # 2. A public reply of the engineer goes to the requester, threaded after the ack.
    committed(
        services.add_reply, ticket, actor=sd.engineer_a, body="请重启 VPN 客户端。", public=True
    )
    reply = smtp.messages[-1]
    assert len(smtp.messages) == 2
    assert reply["Subject"].strip() == f"[{ticket.number}] Re: VPN 无法连接"
    assert reply["In-Reply-To"] == ack["Message-ID"]
    assert reply["References"].split() == ["<vpn-1@hospital.example.cn>", ack["Message-ID"]]
    assert reply["Auto-Submitted"] == "auto-replied"
    assert "请重启 VPN 客户端。" in reply.get_content()
    row = OutboundMail.objects.get(message_id=reply["Message-ID"])
    assert (row.state, row.attempts, row.to, row.language) == ("sent", 1, [CUSTOMER], "en")

    # 3. Internal notes never leave the building.
    committed(services.add_reply, ticket, actor=sd.engineer_a, body="内部备注", public=False)
    assert len(smtp.messages) == 2

    # 4. The customer answers our reply: threaded by In-Reply-To, no new ticket.
    answer = _poll(
        dovecot,
        desk,
        committed,
        customer_mail(
            "<vpn-2@hospital.example.cn>",
            Subject="Re: it works now",
            In_Reply_To=reply["Message-ID"],
            References=reply["References"] + " " + reply["Message-ID"],
        ),
    )
    assert answer.ticket == ticket
    assert Ticket.objects.count() == 1

    # 5. Our own mail coming back into the mailbox (a forwarding loop) is ignored.
    echoed = _poll(dovecot, desk, committed, reply.as_bytes())
    assert echoed.state == "ignored"


def test_assignment_notice_goes_to_the_engineer_in_chinese(
    sd: World, desk: Mailbox, dovecot: Dovecot, smtp: SmtpSink, committed: Any
) -> None:
    first = _poll(dovecot, desk, committed, customer_mail("<asg-1@hospital.example.cn>"))
    assert first.ticket is not None
    committed(services.assign, first.ticket, actor=sd.manager, assignee=sd.engineer_a)
    notice = smtp.messages[-1]
    assert notice["To"] == "engineer.a@ops.example.cn"
    assert notice["Content-Language"] == "zh-hans"
    assert "状态" in notice.get_content()
    assert notice["Subject"].strip().startswith(f"[{first.ticket.number}] ")
    assert notice["Auto-Submitted"] == "auto-replied"
    assert notice["In-Reply-To"]  # still in the ticket's thread


def test_status_change_is_mailed_to_the_requester(
    sd: World, desk: Mailbox, dovecot: Dovecot, smtp: SmtpSink, committed: Any
) -> None:
    first = _poll(dovecot, desk, committed, customer_mail("<st-1@hospital.example.cn>"))
    ticket = first.ticket
    assert ticket is not None
    committed(services.assign, ticket, actor=sd.manager, assignee=sd.engineer_a)
    sent_before = len(smtp.messages)
    committed(
        services.transition, Ticket.objects.get(pk=ticket.pk), actor=sd.engineer_a, to="in_progress"
    )
    to_customer = [m for m in smtp.messages[sent_before:] if m["To"] == CUSTOMER]
    assert len(to_customer) == 1
    assert to_customer[0]["Subject"].strip() == (
        f"[{ticket.number}] Status In progress: VPN 无法连接"
    )
    assert "Status: In progress" in to_customer[0].get_content()


def test_failed_sends_back_off_then_give_up(
    sd: World, desk: Mailbox, dovecot: Dovecot, committed: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.EMAIL_TIMEOUT = 2
    settings.EMAIL_SEND_MAX_ATTEMPTS = 3
    first = _poll(dovecot, desk, committed, customer_mail("<f-1@hospital.example.cn>"))
    row = OutboundMail.objects.get(ticket=first.ticket)
    assert (row.state, row.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in row.error
    assert row.next_attempt_at is not None
    assert sending.due_ids() == []  # backing off

    now = timezone.now()
    for attempt, state in ((2, "pending"), (3, "failed")):
        now += dt.timedelta(hours=6)
        assert sending.send_due(now=now) == {state: 1}
        row.refresh_from_db()
        assert (row.state, row.attempts) == (state, attempt)
    assert sending.due_ids(now + dt.timedelta(days=30)) == []


def test_a_row_is_sent_once_even_if_two_workers_race(
    sd: World, desk: Mailbox, dovecot: Dovecot, committed: Any, smtp: SmtpSink
) -> None:
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        first = _poll(dovecot, desk, committed, customer_mail("<race@hospital.example.cn>"))
    row = OutboundMail.objects.get(ticket=first.ticket)
    OutboundMail.objects.filter(pk=row.pk).update(state="pending", next_attempt_at=None)
    won = sending.claim(row.pk)
    assert won is not None
    assert sending.claim(row.pk) is None  # the second worker loses
    assert sending.send_one(row.pk) == ""  # and does not send
    assert smtp.messages == []


def test_customer_mail_reply_is_announced_to_the_assignee(
    sd: World, desk: Mailbox, dovecot: Dovecot, smtp: SmtpSink, committed: Any
) -> None:
    first = _poll(dovecot, desk, committed, customer_mail("<cr-1@hospital.example.cn>"))
    assert first.ticket is not None
    committed(services.assign, first.ticket, actor=sd.manager, assignee=sd.engineer_a)
    sent_before = len(smtp.messages)
    _poll(
        dovecot,
        desk,
        committed,
        customer_mail("<cr-2@hospital.example.cn>", In_Reply_To="<cr-1@hospital.example.cn>"),
    )
    [notice] = smtp.messages[sent_before:]
    assert notice["To"] == "engineer.a@ops.example.cn"
    assert "VPN 从早上开始无法连接。" in notice.get_content()


def test_notices_queued_by_the_escalation_engine_are_sent_with_loop_guards(
    sd: World, desk: Mailbox, dovecot: Dovecot, smtp: SmtpSink, committed: Any
) -> None:
    first = _poll(dovecot, desk, committed, customer_mail("<esc-1@hospital.example.cn>"))
    ticket = first.ticket
    assert ticket is not None
    row = OutboundMail.objects.create(
        ticket=ticket,
        to=["lead@ops.example.cn"],
        subject=f"[{ticket.number}] Resolution target breached",
        body="Please act.",
        message_id="<esc-notice-1@desk.opsassure.test>",
        in_reply_to=ticket.mail_thread_id,
        references=ticket.mail_thread_id,
    )
    assert tasks.notify_mail_sweep()["sent"] == 1
    notice = smtp.messages[-1]
    assert notice["Message-ID"] == row.message_id
    assert notice["In-Reply-To"] == "<esc-1@hospital.example.cn>"
    assert notice["Auto-Submitted"] == "auto-replied"
    assert notice["X-Auto-Response-Suppress"] == "All"
