"""Templates in the user's language; untrusted text neutralised for each channel."""

from __future__ import annotations

import datetime as dt
import email.header
from typing import Any

import pytest
from django.test import override_settings
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from opsassure.notify import rendering, sending, services
from opsassure.notify.channels import robots
from tests.conftest import World
from tests.servicedesk.mail import servers

pytestmark = pytest.mark.django_db
EVIL = "<b>x</b> **y** <@all> [click](http://evil.example)\n# head"


class Label:
    """An object reached through attribute lookups (like a model instance)."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __str__(self) -> str:
        return self.value


def test_markdown_channels_neutralise_html_mentions_and_markup() -> None:
    _subject, body = rendering.render(
        "test", {"destination": EVIL}, language="en", channel="dingtalk"
    )
    assert (
        '"&lt;b&gt;x&lt;/b&gt; \\*\\*y\\*\\* &lt;@all&gt; \\[click\\]\\(http://evil.example\\) '
        '\\# head"' in body
    )
    assert "<b>" not in body
    assert "<@all>" not in body


def test_objects_and_nested_values_are_neutralised_too() -> None:
    _subject, body = rendering.render(
        "test", {"destination": Label(EVIL)}, language="en", channel="feishu"
    )
    assert "&lt;b&gt;x&lt;/b&gt;" in body
    assert rendering.neutral({"labels": [EVIL]}, rendering.markdown)["labels"][0].startswith(
        "&lt;b&gt;"
    )


def test_plain_channels_keep_the_text_but_not_control_characters() -> None:
    subject, body = rendering.render(
        "test", {"destination": "a\x00b\u202e<c>"}, language="en", channel="email"
    )
    assert subject == "OpsAssure test message: ab<c>"
    assert '"ab<c>"' in body


def test_the_recipients_language_and_time_zone_are_used() -> None:
    # Our catalogs translate the text; Django's format the dates per language.
    sent_at = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
    context = {"destination": "x", "sent_at": sent_at}
    _, zh = rendering.render(
        "test", context, language="zh-hans", channel="email", time_zone="Asia/Shanghai"
    )
    _, en = rendering.render("test", context, language="en", channel="email", time_zone="UTC")
    assert zh.endswith("发送时间: 2026年3月1日 10:00\n")
    assert en.endswith("Sent at: March 1, 2026, 2 a.m.\n")
    assert translation.get_language() == "en"  # only the rendering switched language


@pytest.mark.mailserver
def test_email_goes_over_real_smtp(world: World, django_capture_on_commit_callbacks: Any) -> None:
    user = world.engineer_a
    user.email = "eng@example.cn"
    user.save()
    with (
        servers.smtp_sink() as sink,
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST=sink.host,
            EMAIL_PORT=sink.port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
        ),
    ):
        [row] = services.notify_user(
            user,
            severity="high",
            dedup_key="smtp",
            template="test",
            context={"destination": "核心交换机"},
        )
        assert sending.send_one(row.pk) == "sent"
        [message] = sink.messages
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert subject == "OpsAssure test message: 核心交换机"
    assert message["To"] == "eng@example.cn"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-OpsAssure-Notification"] == str(row.pk)
    assert "核心交换机" in message.get_content()


def test_the_generic_message_template_links_back() -> None:
    subject, body = rendering.render(
        "message",
        {"subject": "Disk full", "body": "db-1 /var 99%", "link": "https://ops.example.cn/t/1"},
        language="en",
        channel="dingtalk",
    )
    assert subject == "Disk full"
    assert body == "db\\-1 /var 99%\n\n[Open in OpsAssure](https://ops.example.cn/t/1)\n"


@given(text=st.text(min_size=0, max_size=400), limit=st.integers(min_value=8, max_value=600))
def test_truncation_keeps_whole_characters_within_the_byte_limit(text: str, limit: int) -> None:
    cut = robots.truncate_utf8(text, limit)
    assert len(cut.encode()) <= limit
    if len(text.encode()) <= limit:
        assert cut == text
    else:
        assert cut.endswith(robots.ELLIPSIS)
        assert text.startswith(cut[: -len(robots.ELLIPSIS)])


def test_truncation_does_not_leave_half_an_escape_or_entity() -> None:
    suffix = robots.ELLIPSIS
    room = len(suffix.encode())
    assert robots.truncate_utf8("ab\\*cdefgh", 3 + room) == "ab" + suffix
    assert robots.truncate_utf8("a &lt;bcdefgh", 5 + room) == "a " + suffix
