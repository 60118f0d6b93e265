"""How the catalog shows and reads durations: business minutes as hours and minutes."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

_DURATION = re.compile(
    r"^\s*(?:(?P<hours>\d+(?:\.\d+)?)\s*(?:h|hours?|小时|时)\s*)?"
    r"(?:(?P<minutes>\d+)\s*(?:m|min|minutes?|分钟|分)?\s*)?$",
    re.IGNORECASE,
)


def format_duration(minutes: int | None) -> str:
    """``4 h``, ``30 min``, ``1 h 30 min``; empty for no target."""
    if minutes is None:
        return ""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": rest}
    if hours:
        return _("%(hours)d h") % {"hours": hours}
    return _("%(minutes)d min") % {"minutes": rest}


def parse_duration(text: str) -> int | None:
    """Minutes from ``90``, ``90 min``, ``4h``, ``1h30``, ``1.5 h`` or ``4 小时``; None if empty.

    Raises ValueError for anything else. A bare number means minutes.
    """
    if not text.strip():
        return None
    match = _DURATION.match(text)
    if match is None or not (match["hours"] or match["minutes"]):
        raise ValueError(text)
    hours = float(match["hours"]) if match["hours"] else 0.0
    minutes = int(match["minutes"]) if match["minutes"] else 0
    total = round(hours * 60) + minutes
    return total
