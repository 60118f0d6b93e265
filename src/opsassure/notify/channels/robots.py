"""The IM robots: DingTalk custom robot, WeCom group robot, Feishu/Lark custom bot.

Written here rather than taken from a library because the ones we found (apprise) send
plain text without signing. Each checks the vendor's reply: an HTTP 200 carrying an error
code is a failure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import urllib.parse
from typing import TYPE_CHECKING, Any, ClassVar

from opsassure.notify.channels.base import Sender, SendError, json_reply, post

if TYPE_CHECKING:
    from opsassure.notify.models import Notification

_MOBILE = re.compile(r"^\+?\d{5,20}$")
WECOM_MAX_BYTES = 4096
DINGTALK_MAX_BYTES = 18_000  # the robot refuses messages over ~20,000 bytes
FEISHU_MAX_BYTES = 28_000  # a card must stay under 30 KB
ELLIPSIS = "\n…"


def split_mentions(notification: Notification) -> tuple[list[str], list[str]]:
    """(mobile numbers, user ids) to @: the destination's own plus the message's."""
    mentions: list[str] = []
    destination = notification.destination
    if destination is not None:
        for key in ("at_mobiles", "mentions"):
            value = destination.settings.get(key) or []
            mentions += [str(v) for v in value] if isinstance(value, list) else []
    mentions += [str(m) for m in notification.payload.get("mentions", [])]
    unique = list(dict.fromkeys(m.strip() for m in mentions if str(m).strip()))
    mobiles = [m for m in unique if _MOBILE.match(m)]
    return mobiles, [m for m in unique if m not in mobiles]


def _url_and_secret(notification: Notification) -> tuple[str, str]:
    destination = notification.destination
    if destination is None:
        raise SendError("a robot message needs a destination", retryable=False)
    return destination.url, destination.secret


def truncate_utf8(text: str, limit: int, suffix: str = ELLIPSIS) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes on a character boundary."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    room = limit - len(suffix.encode())
    cut = raw[: max(0, room)].decode("utf-8", errors="ignore")
    # Do not leave a dangling escape ("\") or half an HTML entity at the cut.
    cut = re.sub(r"(\\|&[a-z]{0,5})$", "", cut)
    return cut + suffix


# --- DingTalk ---------------------------------------------------------------------------------


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    """base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded (DingTalk docs)."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def dingtalk_url(url: str, secret: str, timestamp_ms: str) -> str:
    if not secret:
        return url
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


# Errors that trying again cannot fix: bad token, security settings (sign, keyword, IP).
DINGTALK_PERMANENT = {300001, 300004, 300005, 310000, 400101, 400102}


class DingTalkSender(Sender):
    kind: ClassVar[str] = "dingtalk"

    def send(self, notification: Notification) -> str:
        url, secret = _url_and_secret(notification)
        mobiles, user_ids = split_mentions(notification)
        # DingTalk only shows an @ that is also written in the text.
        tail = " ".join(f"@{m}" for m in [*mobiles, *user_ids])
        tail = f"\n\n{tail}" if tail else ""
        room = DINGTALK_MAX_BYTES - len(tail.encode())
        text = truncate_utf8(notification.body.rstrip(), room) + tail
        message: dict[str, Any] = {
            "msgtype": "markdown",
            "markdown": {"title": notification.subject[:100], "text": text},
            "at": {"atMobiles": mobiles, "atUserIds": user_ids, "isAtAll": False},
        }
        timestamp = str(int(time.time() * 1000))
        response = post(dingtalk_url(url, secret, timestamp), json=message)
        return check_errcode(response, DINGTALK_PERMANENT)


def check_errcode(response: Any, permanent: set[int], field: str = "errcode") -> str:
    data = json_reply(response)
    code = data.get(field)
    reply = f"HTTP {response.status_code} {response.text[:1000]}"
    if code == 0:
        return reply
    message = f"{field} {code}: {data.get('errmsg') or data.get('msg') or ''}".strip()
    raise SendError(message, reply=reply, retryable=code not in permanent)


# --- WeCom ------------------------------------------------------------------------------------

WECOM_PERMANENT = {40008, 40058, 93000, 93004}


class WeComSender(Sender):
    """Markdown (≤ 4096 bytes of UTF-8). WeCom's markdown @s user ids with ``<@userid>``;
    mobile numbers can only be @-ed by a text message, sent right after when needed."""

    kind: ClassVar[str] = "wecom"

    def send(self, notification: Notification) -> str:
        url, _secret = _url_and_secret(notification)
        mobiles, user_ids = split_mentions(notification)
        tail = "".join(f"<@{u}>" for u in user_ids)
        tail = f"\n{tail}" if tail else ""
        room = WECOM_MAX_BYTES - len(tail.encode())
        content = truncate_utf8(notification.body.rstrip(), room) + tail
        markdown = {"msgtype": "markdown", "markdown": {"content": content}}
        reply = check_errcode(post(url, json=markdown), WECOM_PERMANENT)
        if mobiles:
            mention = {
                "msgtype": "text",
                "text": {
                    "content": truncate_utf8(notification.subject, 2048),
                    "mentioned_mobile_list": mobiles,
                },
            }
            reply += "\n" + check_errcode(post(url, json=mention), WECOM_PERMANENT)
        return reply


# --- Feishu / Lark ----------------------------------------------------------------------------


def feishu_sign(secret: str, timestamp_s: str) -> str:
    """base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")) (Feishu docs)."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


FEISHU_PERMANENT = {9499, 19001, 19002, 19021, 19022, 19024}
FEISHU_COLOURS = {"critical": "red", "high": "orange", "warning": "yellow", "info": "blue"}


def feishu_card(notification: Notification, user_ids: list[str]) -> dict[str, Any]:
    tail = ("\n" + " ".join(f"<at id={u}></at>" for u in user_ids)) if user_ids else ""
    room = FEISHU_MAX_BYTES - len(tail.encode())
    content = truncate_utf8(notification.body.rstrip(), room) + tail
    return {
        "config": {"wide_screen_mode": True},
        "header": {
            "title": {"tag": "plain_text", "content": notification.subject},
            "template": FEISHU_COLOURS.get(notification.severity, "blue"),
        },
        "elements": [{"tag": "markdown", "content": content}],
    }


class FeishuSender(Sender):
    """Interactive card with a markdown element; ``mentions`` are open ids (``ou_…``)."""

    kind: ClassVar[str] = "feishu"

    def send(self, notification: Notification) -> str:
        url, secret = _url_and_secret(notification)
        _mobiles, user_ids = split_mentions(notification)
        message: dict[str, Any] = {
            "msg_type": "interactive",
            "card": feishu_card(notification, user_ids),
        }
        if secret:
            timestamp = str(int(time.time()))
            message = {"timestamp": timestamp, "sign": feishu_sign(secret, timestamp), **message}
        response = post(url, json=message)
        data = json_reply(response)
        # Current API: {"code": 0, "msg": "success"}; older replies: {"StatusCode": 0}.
        field = "code" if "code" in data else "StatusCode"
        return check_errcode(response, FEISHU_PERMANENT, field=field)
