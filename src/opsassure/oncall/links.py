"""Signed action links (acknowledge / resolve / escalate) for e-mail and IM messages.

The token (``django.core.signing``, salted, timestamped) names the run, the action and the
person it was sent to; it expires after ``ONCALL_ACTION_LINK_HOURS``. Whoever holds the link
acts as that person — the link is the credential, because a phone's IM app cannot log in.
Opening the link (GET) only shows a confirmation page; the action needs a POST, so link
scanners and previews never acknowledge anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from opsassure.core.models import User
from opsassure.oncall import conf
from opsassure.oncall.errors import InvalidLinkError
from opsassure.oncall.models import EscalationRun

SALT = "opsassure.oncall.action"
ACTIONS = ("ack", "resolve", "escalate")


def make_token(run: EscalationRun, action: str, user: User) -> str:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return signing.dumps({"r": run.pk, "a": action, "u": user.pk}, salt=SALT, compress=True)


def action_url(run: EscalationRun, action: str, user: User) -> str:
    """Absolute URL of the signed link that lets ``user`` do ``action`` on ``run``."""
    token = make_token(run, action, user)
    return f"{settings.BASE_URL}{reverse('oncall:action-link', args=[token])}"


@dataclass(frozen=True)
class LinkAction:
    run: EscalationRun
    action: str
    user: User


def read_token(token: str) -> LinkAction:
    """What a valid, unexpired token allows (InvalidLinkError otherwise)."""
    try:
        payload = signing.loads(
            token, salt=SALT, max_age=dt.timedelta(hours=conf.action_link_hours())
        )
    except signing.SignatureExpired as error:
        raise InvalidLinkError(_("This link has expired.")) from error
    except signing.BadSignature as error:
        raise InvalidLinkError(_("This link is not valid.")) from error
    if not isinstance(payload, dict) or payload.get("a") not in ACTIONS:
        raise InvalidLinkError(_("This link is not valid."))
    run_id, user_id = payload.get("r"), payload.get("u")
    if not isinstance(run_id, int) or not isinstance(user_id, int):
        raise InvalidLinkError(_("This link is not valid."))
    run = (
        EscalationRun.objects.select_related("acknowledged_by", "resolved_by")
        .filter(pk=run_id)
        .first()
    )
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if run is None or user is None:
        raise InvalidLinkError(_("This link is not valid."))
    return LinkAction(run=run, action=str(payload["a"]), user=user)
