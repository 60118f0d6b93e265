"""The one hook other modules use to react to the service desk: ``ticket_event``.

Sent once per new timeline entry, after the transaction that wrote it has committed
(``transaction.on_commit``), with ``sender=TicketEvent`` and ``event=<TicketEvent>``. A
receiver must be quick and must not fail the caller: queue work (e.g. an ``OutboundMail``
row and a Celery task), do not do it inline. Receivers are connected in their app's
``AppConfig.ready()``; the service desk never imports them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import django.dispatch
from django.db import transaction

if TYPE_CHECKING:
    from opsassure.servicedesk.models import TicketEvent

logger = logging.getLogger(__name__)

ticket_event = django.dispatch.Signal()


def send_on_commit(event: TicketEvent) -> None:
    """Announce ``event`` once the current transaction commits (never for a rollback).

    ``send_robust``: a failing receiver is logged, it does not break the request that already
    committed.
    """
    from opsassure.servicedesk.models import TicketEvent

    def _send() -> None:
        for receiver, result in ticket_event.send_robust(sender=TicketEvent, event=event):
            if isinstance(result, Exception):
                logger.error(
                    "ticket_event receiver %r failed for event %s: %r", receiver, event.pk, result
                )

    transaction.on_commit(_send)
