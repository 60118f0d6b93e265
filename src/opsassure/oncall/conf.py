"""On-call settings (``ONCALL_*`` in settings.py, from ``OPSASSURE_ONCALL_*``), with defaults."""

from __future__ import annotations

from django.conf import settings


def handover_ack_minutes() -> int:
    """A handover not acknowledged this long after it was written goes to the team lead."""
    return int(getattr(settings, "ONCALL_HANDOVER_ACK_MINUTES", 30))


def action_link_hours() -> int:
    """How long a signed acknowledge / resolve / escalate link works."""
    return int(getattr(settings, "ONCALL_ACTION_LINK_HOURS", 72))


def sweep_batch() -> int:
    return int(getattr(settings, "ONCALL_SWEEP_BATCH", 200))
