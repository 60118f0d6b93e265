"""Writing a ticket's timeline: one ``TicketEvent`` row per entry, announced after commit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsassure.servicedesk.models import Ticket, TicketEvent
from opsassure.servicedesk.signals import send_on_commit

if TYPE_CHECKING:
    from opsassure.core.models import User


def record(
    ticket: Ticket,
    kind: str,
    *,
    actor: User | None = None,
    body: str = "",
    public: bool = True,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """Append an entry (inside the caller's transaction); ``ticket_event`` fires on commit."""
    event = TicketEvent.objects.create(
        ticket=ticket, kind=kind, actor=actor, body=body, is_public=public, data=data or {}
    )
    send_on_commit(event)
    return event
