"""Who may act on a ticket: the checks every service runs before it writes."""

from __future__ import annotations

from django.utils.translation import gettext as _

from opsassure.core.models import Customer, User
from opsassure.core.tenancy import visible_customer_ids
from opsassure.servicedesk import workflow
from opsassure.servicedesk.errors import NotPermittedError
from opsassure.servicedesk.models import Ticket


def staff_or_system(actor: User | None) -> None:
    """Provider staff who work tickets, or the platform itself."""
    if workflow.actor_kind(actor) not in (workflow.STAFF, workflow.SYSTEM):
        raise NotPermittedError(_("Only the provider's service staff can do this."))


def check_sees(actor: User | None, ticket: Ticket) -> None:
    """The actor must see the ticket (API and UI scope it already; this is the backstop)."""
    if actor is None:
        return
    if not Ticket.objects.visible_to(actor).filter(pk=ticket.pk).exists():
        raise NotPermittedError(_("You cannot see this ticket."))


def check_customer(actor: User | None, customer: Customer) -> None:
    """The actor serves (or belongs to) ``customer``."""
    if actor is None:
        return
    ids = visible_customer_ids(actor)
    if ids is not None and customer.pk not in ids:
        raise NotPermittedError(_("You do not serve this customer."))
