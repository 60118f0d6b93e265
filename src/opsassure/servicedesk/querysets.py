"""Who sees which tickets, and which parts of them.

On top of the tenant scope (``TenantQuerySet``: provider staff see the customers their teams
serve, customer users their own customer):

- a customer user sees the tickets they requested and those shared with the customer;
  holders of ``servicedesk.view_customer_tickets`` (the customer admin role) see all of
  their customer's tickets;
- rows hanging off a ticket (timeline, attachments, clocks, escalations, rating, mail) follow
  the ticket, and a customer user never sees internal ones — internal notes, private
  attachments, OLA clocks — whatever permissions they were given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db.models import Q

from opsassure.core.models import TenantQuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from opsassure.core.models import User

VIEW_CUSTOMER_TICKETS = "servicedesk.view_customer_tickets"


def _customer_user(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and getattr(user, "customer_id", None) is not None)


def own_tickets_only(user: User | AnonymousUser) -> bool:
    """A customer user limited to their own and shared tickets (not a customer admin)."""
    return _customer_user(user) and not user.has_perm(VIEW_CUSTOMER_TICKETS)


def ticket_condition(user: User | AnonymousUser, prefix: str = "") -> Q:
    """The requester/shared rule of a customer user, on the ticket at ``prefix``."""
    return Q(**{f"{prefix}requester": user}) | Q(**{f"{prefix}shared_with_customer": True})


class TicketQuerySet(TenantQuerySet):
    def visible_to(self, user: User | AnonymousUser) -> Self:
        queryset = super().visible_to(user)
        if own_tickets_only(user):
            queryset = queryset.filter(ticket_condition(user))
        return queryset

    def open(self) -> Self:
        from opsassure.servicedesk.models import OPEN_STATUSES

        return self.filter(status__in=OPEN_STATUSES)


class TicketChildQuerySet(TenantQuerySet):
    """Rows of a ticket (``ticket`` foreign key): visible when the ticket is.

    ``customer_filter`` (a class attribute of a subclass) hides internal rows from
    customer users.
    """

    customer_filter: dict[str, Any] = {}

    def visible_to(self, user: User | AnonymousUser) -> Self:
        queryset = super().visible_to(user)
        if not _customer_user(user):
            return queryset
        if own_tickets_only(user):
            queryset = queryset.filter(ticket_condition(user, "ticket__"))
        if self.customer_filter:
            queryset = queryset.filter(**self.customer_filter)
        return queryset


class TicketEventQuerySet(TicketChildQuerySet):
    customer_filter = {"is_public": True}


class AttachmentQuerySet(TicketChildQuerySet):
    # A public file on an internal note stays internal.
    def visible_to(self, user: User | AnonymousUser) -> Self:
        queryset = super().visible_to(user)
        if _customer_user(user):
            queryset = queryset.filter(is_public=True).exclude(event__is_public=False)
        return queryset


class SlaClockQuerySet(TicketChildQuerySet):
    customer_filter = {"team__isnull": True}  # OLA clocks are the provider's own business
