"""Service-desk settings (``OPSASSURE_*`` in settings.py), with their defaults."""

from __future__ import annotations

from django.conf import settings

MEGABYTE = 1024 * 1024
# MIME types accepted as attachments. Not HTML, SVG or scripts: a file served back to a
# browser must never run in our origin.
DEFAULT_ATTACHMENT_TYPES = (
    "application/pdf",
    "application/zip",
    "application/gzip",
    "application/x-7z-compressed",
    "application/x-tar",
    "application/json",
    "application/xml",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
    "text/plain",
    "text/csv",
    "text/xml",
    "message/rfc822",
)


def attachment_max_bytes() -> int:
    return int(getattr(settings, "OPSASSURE_ATTACHMENT_MAX_BYTES", 10 * MEGABYTE))


def attachment_types() -> frozenset[str]:
    return frozenset(getattr(settings, "OPSASSURE_ATTACHMENT_TYPES", DEFAULT_ATTACHMENT_TYPES))


def auto_close_days() -> int:
    """Resolved tickets close after this many days unless reopened."""
    return int(getattr(settings, "OPSASSURE_AUTO_CLOSE_DAYS", 7))


def reopen_days() -> int:
    """A customer may reopen a resolved ticket for this many days (default: until auto-close)."""
    return int(getattr(settings, "OPSASSURE_REOPEN_DAYS", auto_close_days()))


def rating_link_days() -> int:
    """How long the e-mailed rating link works."""
    return int(getattr(settings, "OPSASSURE_RATING_LINK_DAYS", 14))


def breach_raises_priority() -> bool:
    """A resolution breach raises the ticket's priority by one step (P3 → P2)."""
    return bool(getattr(settings, "OPSASSURE_SLA_BREACH_RAISES_PRIORITY", False))


def breach_reassigns_to_lead() -> bool:
    """An SLA breach reassigns the ticket to its team's lead (when it has one and the lead is
    not the assignee already)."""
    return bool(getattr(settings, "OPSASSURE_SLA_BREACH_REASSIGNS_TO_LEAD", False))


def functional_escalation() -> bool:
    """The second warning moves the ticket to the next support level (1 → 2 → 3)."""
    return bool(getattr(settings, "OPSASSURE_SLA_FUNCTIONAL_ESCALATION", True))


def mail_domain() -> str:
    return str(getattr(settings, "OPSASSURE_MAIL_DOMAIN", "opsassure.local"))
