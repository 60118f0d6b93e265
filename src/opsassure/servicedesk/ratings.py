"""Satisfaction ratings through the e-mailed link: a signed, expiring token per resolution.

The token (``django.core.signing``, salted, timestamped) names the ticket and the resolution
it was sent for (``reopen_count``), so a link from before a reopen no longer works once the
ticket is resolved again; it expires after ``OPSASSURE_RATING_LINK_DAYS``. Whoever holds the
link rates as the requester — the link is the credential, as in every survey mail. The
rating itself is ``services.rate`` (one per ticket).
"""

from __future__ import annotations

import datetime as dt

from django.core import signing

from opsassure.servicedesk import conf, services
from opsassure.servicedesk.errors import InvalidRatingTokenError
from opsassure.servicedesk.models import Rating, Ticket

SALT = "opsassure.servicedesk.rating"


def make_token(ticket: Ticket) -> str:
    """The token for the rating link of ``ticket``'s current resolution."""
    return signing.dumps({"t": ticket.pk, "r": ticket.reopen_count}, salt=SALT, compress=True)


def ticket_for_token(token: str) -> Ticket:
    """The ticket a valid, unexpired token is for (InvalidRatingTokenError otherwise)."""
    try:
        payload = signing.loads(
            token, salt=SALT, max_age=dt.timedelta(days=conf.rating_link_days())
        )
    except signing.SignatureExpired as error:
        raise InvalidRatingTokenError(expired=True) from error
    except signing.BadSignature as error:
        raise InvalidRatingTokenError() from error
    ticket_id = payload.get("t") if isinstance(payload, dict) else None
    if not isinstance(ticket_id, int):
        raise InvalidRatingTokenError()
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None or ticket.reopen_count != payload.get("r"):
        raise InvalidRatingTokenError()
    return ticket


def rate_with_token(token: str, *, score: int, comment: str = "") -> Rating:
    """Rate through the e-mailed link (no login): the requester's rating."""
    ticket = ticket_for_token(token)
    return services.rate(ticket, actor=None, score=score, comment=comment)
