"""Writing a ticket's timeline: one ``TicketEvent`` row per entry, announced after commit."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from opsassure.servicedesk.models import Ticket, TicketEvent
from opsassure.servicedesk.signals import send_on_commit

if TYPE_CHECKING:
    from opsassure.core.models import User

# An entry more than this far from the wall clock was written with an explicit time.
BACKDATE_SECONDS = 5


def record(
    ticket: Ticket,
    kind: str,
    *,
    actor: User | None = None,
    body: str = "",
    public: bool = True,
    data: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> TicketEvent:
    """Append an entry (inside the caller's transaction); ``ticket_event`` fires on commit.

    ``at``: when it happened, for operations run with an explicit time (history imports,
    demo data, tests); entries written in real time keep the database's timestamp.
    """
    event = TicketEvent.objects.create(
        ticket=ticket, kind=kind, actor=actor, body=body, is_public=public, data=data or {}
    )
    if at is not None and abs((event.created_at - at).total_seconds()) > BACKDATE_SECONDS:
        TicketEvent.objects.filter(pk=event.pk).update(created_at=at)
        event.created_at = at
    send_on_commit(event)
    return event
