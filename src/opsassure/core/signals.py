"""Receivers for authentication events: every login, logout and failed login is audited."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from opsassure.core import audit
from opsassure.core.models.audit import AuditEvent


@receiver(user_logged_in, dispatch_uid="opsassure_audit_login")
def _logged_in(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    audit.record(AuditEvent.Action.LOGIN, instance=user, actor_username=user.get_username())


@receiver(user_logged_out, dispatch_uid="opsassure_audit_logout")
def _logged_out(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    if user is not None:
        audit.record(AuditEvent.Action.LOGOUT, instance=user, actor_username=user.get_username())


@receiver(user_login_failed, dispatch_uid="opsassure_audit_login_failed")
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    # Only the username is kept; the password never reaches the trail.
    username = str(credentials.get("username", ""))[:150]
    audit.record(
        AuditEvent.Action.LOGIN_FAILED,
        object_type="core.user",
        object_repr=username,
        actor_username=username,
    )
