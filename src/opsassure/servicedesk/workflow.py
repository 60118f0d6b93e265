"""The ticket status workflow: which status may follow which, and who may make the move.

One table, read by the services (to enforce it), the API (to list the allowed moves in a
409) and the UI (to show only the buttons that work). Three kinds of actor:

- ``staff``: provider staff holding ``servicedesk.work_ticket`` (engineers, operators,
  service managers) for tickets of customers they serve;
- ``customer``: a user of the ticket's customer who can see the ticket (requester, shared
  ticket or customer admin): may withdraw a ticket nobody works on yet, confirm (close) or
  reopen a resolved ticket within the reopen window;
- ``system``: the platform itself (actor None): auto-close, a customer's reply ending
  "pending", the mail channel. It may make every move of the table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsassure.servicedesk.models import TicketStatus

if TYPE_CHECKING:
    from opsassure.core.models import User

STAFF = "staff"
CUSTOMER = "customer"
SYSTEM = "system"

S = TicketStatus
_STAFF_ONLY = frozenset({STAFF})
_STAFF_AND_CUSTOMER = frozenset({STAFF, CUSTOMER})

TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (S.NEW, S.ASSIGNED): _STAFF_ONLY,
    (S.NEW, S.IN_PROGRESS): _STAFF_ONLY,
    (S.NEW, S.PENDING): _STAFF_ONLY,
    (S.NEW, S.RESOLVED): _STAFF_ONLY,
    (S.NEW, S.CANCELLED): _STAFF_AND_CUSTOMER,
    (S.ASSIGNED, S.IN_PROGRESS): _STAFF_ONLY,
    (S.ASSIGNED, S.PENDING): _STAFF_ONLY,
    (S.ASSIGNED, S.RESOLVED): _STAFF_ONLY,
    (S.ASSIGNED, S.CANCELLED): _STAFF_AND_CUSTOMER,
    (S.IN_PROGRESS, S.ASSIGNED): _STAFF_ONLY,  # handed back to the queue
    (S.IN_PROGRESS, S.PENDING): _STAFF_ONLY,
    (S.IN_PROGRESS, S.RESOLVED): _STAFF_ONLY,
    (S.IN_PROGRESS, S.CANCELLED): _STAFF_ONLY,
    (S.PENDING, S.IN_PROGRESS): _STAFF_ONLY,
    (S.PENDING, S.RESOLVED): _STAFF_ONLY,
    (S.PENDING, S.CANCELLED): _STAFF_ONLY,
    (S.RESOLVED, S.CLOSED): _STAFF_AND_CUSTOMER,
    (S.RESOLVED, S.REOPENED): _STAFF_AND_CUSTOMER,
    (S.REOPENED, S.ASSIGNED): _STAFF_ONLY,
    (S.REOPENED, S.IN_PROGRESS): _STAFF_ONLY,
    (S.REOPENED, S.PENDING): _STAFF_ONLY,
    (S.REOPENED, S.RESOLVED): _STAFF_ONLY,
    (S.REOPENED, S.CANCELLED): _STAFF_ONLY,
}
FINAL_STATUSES = frozenset({S.CLOSED, S.CANCELLED})
# Moves that stop the clocks, pause them, or restart them.
PAUSING = frozenset({S.PENDING})
RESOLVING = frozenset({S.RESOLVED, S.CANCELLED})


def actor_kind(actor: User | None) -> str | None:
    """``staff``, ``customer``, ``system`` — or None for users who may not move tickets."""
    if actor is None:
        return SYSTEM
    if not actor.is_active:
        return None
    if actor.customer_id is not None:
        return CUSTOMER
    if actor.has_perm("servicedesk.work_ticket"):
        return STAFF
    return None


def may(kind: str | None, current: str, to: str) -> bool:
    """Whether an actor of ``kind`` may move a ticket from ``current`` to ``to``."""
    who = TRANSITIONS.get((current, to))
    if who is None or kind is None:
        return False
    return kind == SYSTEM or kind in who


def allowed_targets(kind: str | None, current: str) -> list[str]:
    """The statuses an actor of ``kind`` may move a ticket in ``current`` to (sorted)."""
    return sorted(to for (source, to) in TRANSITIONS if source == current and may(kind, source, to))
