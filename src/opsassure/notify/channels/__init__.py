"""Channel senders: one class per destination kind, each checks its provider's reply."""

from __future__ import annotations

from opsassure.notify.channels.base import Sender, SendError
from opsassure.notify.channels.gateway import GatewaySender, VoiceSender
from opsassure.notify.channels.mail import EmailSender
from opsassure.notify.channels.robots import DingTalkSender, FeishuSender, WeComSender
from opsassure.notify.channels.webhook import WebhookSender

SENDERS: dict[str, type[Sender]] = {
    sender.kind: sender
    for sender in (
        EmailSender,
        WebhookSender,
        DingTalkSender,
        WeComSender,
        FeishuSender,
        GatewaySender,
        VoiceSender,
    )
}


def sender_for(kind: str) -> Sender:
    try:
        return SENDERS[kind]()
    except KeyError:
        raise SendError(f"no sender for channel {kind!r}", retryable=False) from None


__all__ = ["SENDERS", "SendError", "Sender", "sender_for"]
