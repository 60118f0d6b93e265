"""Generic webhook: the notification as JSON, signed with HMAC-SHA256 when a secret is set.

Headers: ``X-OpsAssure-Timestamp: <unix seconds>`` and
``X-OpsAssure-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{raw body}")>``.
The receiver recomputes the HMAC over the exact bytes it received and rejects old
timestamps (replay protection).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any, ClassVar

from opsassure.notify.channels.base import Sender, post, reply_text

if TYPE_CHECKING:
    from opsassure.notify.models import Notification

SIGNATURE_HEADER = "X-OpsAssure-Signature"
TIMESTAMP_HEADER = "X-OpsAssure-Timestamp"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def document(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "dedup_key": notification.dedup_key,
        "channel": notification.channel,
        "severity": notification.severity,
        "subject": notification.subject,
        "body": notification.body,
        "language": notification.language,
        "source": {"type": notification.source_type, "id": notification.source_id},
        "customer": notification.customer_id,
        "payload": notification.payload,
        "created_at": notification.created_at.isoformat(),
    }


class WebhookSender(Sender):
    kind: ClassVar[str] = "webhook"

    def send(self, notification: Notification) -> str:
        destination = notification.destination
        url = destination.url if destination is not None else notification.address
        secret = destination.secret if destination is not None else ""
        body = json.dumps(document(notification), ensure_ascii=False, separators=(",", ":"))
        raw = body.encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json; charset=utf-8", TIMESTAMP_HEADER: timestamp}
        extra = destination.settings.get("headers") if destination is not None else None
        if isinstance(extra, dict):
            headers.update({str(k): str(v) for k, v in extra.items()})
        if secret:
            headers[SIGNATURE_HEADER] = signature(secret, timestamp, raw)
        return reply_text(post(url, content=raw, headers=headers), limit=1000)
