"""Parsing hostile and legacy mail: charsets, HTML, broken MIME, auto-replies, huge headers."""

from __future__ import annotations

import base64
from email.message import EmailMessage

import pytest

from opsassure.servicedesk.mail import parsing

OWN = {"desk@ops.example.cn"}


def _b64(text: str, charset: str) -> str:
    return base64.b64encode(text.encode(charset)).decode()


def test_gb2312_labelled_gbk_subject_and_body_are_decoded() -> None:
    # "镕" is in GBK/GB18030 but not in GB2312: clients label such mail gb2312 anyway.
    subject = "服务器宕机 镕"
    raw = (
        f"From: =?gb2312?B?{_b64('张三', 'gbk')}?= <Zhang.San@Hospital.example.cn>\r\n"
        "To: desk@ops.example.cn\r\n"
        f"Subject: =?gb2312?B?{_b64(subject, 'gbk')}?=\r\n"
        "Message-ID: <gb-1@hospital.example.cn>\r\n"
        "Content-Type: text/plain; charset=gb2312\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + "机房 3 号柜的服务器无法启动，镕。".encode("gbk")
    parsed = parsing.parse_message(raw, OWN)
    assert parsed.subject == subject
    assert parsed.sender == "zhang.san@hospital.example.cn"
    assert parsed.sender_name == "张三"
    assert parsed.text == "机房 3 号柜的服务器无法启动，镕。"
    assert parsed.message_id == "<gb-1@hospital.example.cn>"
    assert parsed.auto_submitted is False


def test_gb18030_four_byte_characters_and_unknown_charset() -> None:
    text = "𠀀 四字节字符 € 欧元"
    raw = (
        b"From: a@example.cn\r\nSubject: =?x-unknown-charset?Q?hello?=\r\n"
        b"Content-Type: text/plain; charset=x-made-up\r\n\r\n"
    ) + text.encode("gb18030")
    parsed = parsing.parse_message(raw, OWN)
    assert parsed.text == text
    assert parsed.subject == "hello"


def test_html_only_mail_becomes_text_without_script_or_style() -> None:
    message = EmailMessage()
    message["From"] = "li@example.cn"
    message["Subject"] = "HTML"
    message.set_content(
        "<html><head><style>p{color:red}</style><title>t</title></head><body>"
        "<p>Printer &amp; scanner down</p><script>alert('x')</script>"
        "<div>Room <b>301</b></div><img src=x onerror=alert(1)></body></html>",
        subtype="html",
    )
    parsed = parsing.parse_message(message.as_bytes(), OWN)
    assert parsed.text == "Printer & scanner down\n\nRoom 301"
    assert "alert" not in parsed.text
    assert "<" not in parsed.text


def test_plain_part_wins_over_html_and_attachments_are_collected() -> None:
    message = EmailMessage()
    message["From"] = "li@example.cn"
    message["Subject"] = "with file"
    message.set_content("plain text")
    message.add_alternative("<p>html text</p>", subtype="html")
    message.add_attachment(
        b"%PDF-1.4 data", maintype="application", subtype="pdf", filename="报告.pdf"
    )
    parsed = parsing.parse_message(message.as_bytes(), OWN)
    assert parsed.text == "plain text"
    assert [(a.filename, a.content_type, a.content) for a in parsed.attachments] == [
        ("报告.pdf", "application/pdf", b"%PDF-1.4 data")
    ]


def test_attachment_filename_cannot_escape_into_a_path() -> None:
    raw = (
        b"From: a@example.cn\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="../../etc/passwd"\r\n\r\nx\r\n--b--\r\n'
    )
    parsed = parsing.parse_message(raw, OWN)
    assert [a.filename for a in parsed.attachments] == ["passwd"]


def test_broken_mime_is_parsed_leniently() -> None:
    raw = (
        b"From: broken@example.cn\r\nSubject: broken\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
        b"--never-closed\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n"
        b"--never-closed\r\nContent-Type: text/plain\r\n\r\nsecond part \xff\xfe\r\n"
    )
    parsed = parsing.parse_message(raw, OWN)
    assert parsed.sender == "broken@example.cn"
    assert "second part" in parsed.text
    assert parsed.defects  # the parser noticed the damage; we still read what we could


def test_huge_header_block_is_refused() -> None:
    raw = b"From: a@example.cn\r\nX-Junk: " + b"A" * 70_000 + b"\r\n\r\nbody"
    with pytest.raises(parsing.MailRejected, match="header block"):
        parsing.parse_message(raw, OWN, max_header_bytes=64 * 1024)


def test_missing_message_id_gets_a_stable_hash() -> None:
    raw = b"From: a@example.cn\r\nSubject: no id\r\n\r\nbody"
    assert parsing.read_message_id(raw) == parsing.read_message_id(raw)
    assert parsing.read_message_id(raw).endswith("@missing-message-id.opsassure>")
    assert parsing.read_message_id(raw) != parsing.read_message_id(raw + b"!")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Auto-Submitted: auto-replied", "Auto-Submitted: auto-replied"),
        ("Precedence: bulk", "Precedence: bulk"),
        ("Precedence: junk", "Precedence: junk"),
        ("Precedence: list", "Precedence: list"),
        ("X-Autoreply: yes", "X-Autoreply: yes"),
        ("X-Auto-Response-Suppress: All", "X-Auto-Response-Suppress: All"),
    ],
)
def test_auto_replies_are_detected(headers: str, reason: str) -> None:
    raw = f"From: user@example.cn\r\n{headers}\r\nSubject: Out of office\r\n\r\nx".encode()
    parsed = parsing.parse_message(raw, OWN)
    assert (parsed.auto_submitted, parsed.auto_reason) == (True, reason)


def test_auto_submitted_no_is_a_person() -> None:
    raw = b"From: user@example.cn\r\nAuto-Submitted: no\r\nSubject: hi\r\n\r\nx"
    assert parsing.parse_message(raw, OWN).auto_submitted is False


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("Desk <DESK@ops.example.cn>", "From is one of our own mailboxes"),
        ("MAILER-DAEMON@mx.example.cn", "Bounce or message without sender"),
        ("postmaster@example.cn", "Bounce or message without sender"),
    ],
)
def test_loops_and_bounces_are_detected(sender: str, reason: str) -> None:
    raw = f"From: {sender}\r\nSubject: x\r\n\r\nx".encode()
    assert parsing.parse_message(raw, OWN).auto_reason == reason


def test_thread_ids_and_ticket_token() -> None:
    raw = (
        b"From: a@example.cn\r\nSubject: Re: AW: [inc-2026-000123] disk full\r\n"
        b"In-Reply-To: <c@ops>\r\nReferences: <a@ops>\r\n <b@ops> <c@ops>\r\n\r\nx"
    )
    parsed = parsing.parse_message(raw, OWN)
    assert parsed.thread_ids == ["<c@ops>", "<b@ops>", "<a@ops>"]
    assert parsed.ticket_token == "INC-2026-000123"
