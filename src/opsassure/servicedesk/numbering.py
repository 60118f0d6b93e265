"""Ticket numbers: INC-2026-000123 (incidents), REQ-2026-000045 (service requests).

One counter row per (prefix, year), incremented with ``UPDATE … SET last = last + 1`` inside
the caller's transaction: the row lock serialises concurrent creators on PostgreSQL, and
SQLite serialises writers anyway, so numbers are never issued twice. The year is the
installation's local year (``TIME_ZONE``), as people read it on the ticket.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from opsassure.servicedesk.models import TicketKind, TicketSequence

PREFIXES = {TicketKind.INCIDENT: "INC", TicketKind.REQUEST: "REQ"}


def format_number(prefix: str, year: int, value: int) -> str:
    return f"{prefix}-{year}-{value:06d}"


def next_number(kind: str, now: dt.datetime) -> str:
    """Take the next number for a ticket of ``kind`` opened at ``now`` (call in a transaction)."""
    prefix = PREFIXES.get(TicketKind(kind), "TKT")
    year = now.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).year
    for _attempt in range(3):
        rows = TicketSequence.objects.filter(prefix=prefix, year=year)
        if rows.update(last=F("last") + 1):
            last = rows.values_list("last", flat=True).get()
            return format_number(prefix, year, last)
        try:
            with transaction.atomic():
                TicketSequence.objects.create(prefix=prefix, year=year, last=1)
        except IntegrityError:
            continue  # another creator made the row first: increment it
        return format_number(prefix, year, 1)
    raise RuntimeError(f"could not take a ticket number for {prefix}-{year}")
