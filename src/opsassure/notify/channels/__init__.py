"""Channel senders: one class per destination kind, each checks its provider's reply."""

from __future__ import annotations

from opsassure.notify.channels.base import Sender, SendError
from opsassure.notify.channels.mail import EmailSender

SENDERS: dict[str, type[Sender]] = {EmailSender.kind: EmailSender}


def sender_for(kind: str) -> Sender:
    try:
        return SENDERS[kind]()
    except KeyError:
        raise SendError(f"no sender for channel {kind!r}", retryable=False) from None


__all__ = ["SENDERS", "SendError", "Sender", "sender_for"]
