"""E-mail through Django's configured backend (SMTP in production)."""

from __future__ import annotations

import smtplib
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.core.mail import EmailMessage

from opsassure.notify.channels.base import Sender, SendError

if TYPE_CHECKING:
    from opsassure.notify.models import Notification


class EmailSender(Sender):
    kind: ClassVar[str] = "email"

    def send(self, notification: Notification) -> str:
        address = notification.address
        if not address or "@" not in address:
            raise SendError(f"not an e-mail address: {address!r}", retryable=False)
        message = EmailMessage(
            subject=notification.subject,
            body=notification.body,
            from_email=str(settings.DEFAULT_FROM_EMAIL),
            to=[a.strip() for a in address.split(",") if a.strip()],
            headers={
                "Auto-Submitted": "auto-generated",
                "X-Auto-Response-Suppress": "All",
                "Content-Language": notification.language or "zh-hans",
                "X-OpsAssure-Notification": str(notification.pk),
            },
        )
        try:
            count = message.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as error:
            raise SendError(f"recipient refused: {error}", retryable=False) from error
        except (smtplib.SMTPException, OSError) as error:
            raise SendError(f"{type(error).__name__}: {error}") from error
        return f"accepted by the mail server ({count} message)"
