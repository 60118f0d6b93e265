"""Notification settings (``NOTIFY_*`` in settings.py), with their defaults."""

from __future__ import annotations

from django.conf import settings


def max_attempts() -> int:
    return int(getattr(settings, "NOTIFY_MAX_ATTEMPTS", 6))


def backoff_seconds(attempts: int) -> int:
    """Delay before the next try after ``attempts`` failed tries: base · 2^(attempts-1), capped."""
    base = int(getattr(settings, "NOTIFY_BACKOFF_SECONDS", 30))
    cap = int(getattr(settings, "NOTIFY_BACKOFF_MAX_SECONDS", 3600))
    return int(min(cap, base * 2 ** max(0, attempts - 1)))


def http_timeout() -> float:
    return float(getattr(settings, "NOTIFY_HTTP_TIMEOUT", 10))


def stuck_seconds() -> int:
    return int(getattr(settings, "NOTIFY_STUCK_SECONDS", 300))


def default_language() -> str:
    return str(getattr(settings, "NOTIFY_DEFAULT_LANGUAGE", "zh-hans"))
