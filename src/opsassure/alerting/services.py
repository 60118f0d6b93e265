"""Alerting operations other modules and the UI call (typed, one transaction each)."""

from __future__ import annotations

import datetime as dt
import secrets
import zoneinfo
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opsassure.alerting import matchers
from opsassure.alerting.models import (
    AlertEvent,
    AlertGroup,
    GroupState,
    Integration,
    MaintenanceWindow,
    Recurrence,
    Silence,
)
from opsassure.cmdb.models import ConfigurationItem
from opsassure.core.models import Customer, User


class AlertingError(ValueError):
    """Invalid input to an alerting service: ``fields`` maps a field to its problem."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def acknowledge_group(group: AlertGroup, *, user: User | None, via: str = "ui") -> bool:
    """Mark an open group acknowledged (once); also acknowledges its escalation run."""
    from opsassure.alerting.processing import event

    now = timezone.now()
    with transaction.atomic():
        updated = AlertGroup.objects.filter(
            pk=group.pk, is_open=True, acknowledged_at__isnull=True
        ).update(
            acknowledged_at=now,
            acknowledged_by=user,
            state=GroupState.ACKNOWLEDGED,
            updated_at=now,
        )
        if not updated:
            return False
        group.refresh_from_db()
        event(
            AlertEvent.Kind.ACKNOWLEDGED,
            group=group,
            at=now,
            actor=user,
            message=via,
            data={"via": via},
        )
    if via != "oncall" and user is not None:
        _acknowledge_runs(group, user, via)
    return True


def _acknowledge_runs(group: AlertGroup, user: User, via: str) -> None:
    from opsassure.alerting import paging

    paging.acknowledge(group, user, "web" if via == "ui" else "api")


def acknowledge_group_id(group_id: int, *, user: User | None, via: str) -> bool:
    group = AlertGroup.objects.filter(pk=group_id).first()
    return acknowledge_group(group, user=user, via=via) if group is not None else False


def create_integration(
    *,
    name: str,
    kind: str,
    customer: Customer | None,
    actor: User | None,
    bearer_token: str = "",
    **fields: Any,
) -> Integration:
    """A new integration with a fresh URL token (and the bearer token stored hashed)."""
    integration = Integration(name=name, kind=kind, customer=customer, created_by=actor, **fields)
    integration.set_bearer_token(bearer_token)
    integration.full_clean()
    integration.save()
    return integration


def new_bearer_token() -> str:
    return "oab_" + secrets.token_urlsafe(32)


def revoke_integration(integration: Integration) -> bool:
    """Revoke for good (its URL answers 404 from now on); returns False if already revoked."""
    now = timezone.now()
    updated = Integration.objects.filter(pk=integration.pk, revoked_at__isnull=True).update(
        revoked_at=now, enabled=False, updated_at=now
    )
    return bool(updated)


def _check_matchers(value: Sequence[str], field: str, problems: dict[str, str]) -> list[str]:
    try:
        return matchers.validate(list(value))
    except matchers.MatcherError as error:
        problems[field] = str(error)
        return []


def create_silence(
    *,
    customer: Customer | None,
    matchers_: Sequence[str] = (),
    cis: Iterable[ConfigurationItem] = (),
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    comment: str,
    actor: User | None,
) -> Silence:
    """A one-off silence; at least one matcher or CI, ``ends_at`` after ``starts_at``."""
    problems: dict[str, str] = {}
    normalised = _check_matchers(matchers_, "matchers", problems)
    cis = list(cis)
    if not normalised and not cis and "matchers" not in problems:
        problems["matchers"] = _("Give at least one label matcher or configuration item.")
    if ends_at <= starts_at:
        problems["ends_at"] = _("The end must be after the start.")
    if not comment.strip():
        problems["comment"] = _("Say why (a comment is required).")
    if any(customer is not None and ci.customer_id not in (None, customer.pk) for ci in cis):
        problems["cis"] = _("Configuration items must belong to the customer.")
    if problems:
        raise AlertingError(problems)
    with transaction.atomic():
        silence = Silence.objects.create(
            customer=customer,
            matchers=normalised,
            starts_at=starts_at,
            ends_at=ends_at,
            comment=comment.strip(),
            created_by=actor,
        )
        if cis:
            silence.cis.set(cis)
    return silence


def expire_silence(silence: Silence, now: dt.datetime | None = None) -> bool:
    """End a silence now (it stays listed as history); False if it had already ended. Saving
    it re-checks the alerts it muted, which fire again at once."""
    now = now or timezone.now()
    if silence.ends_at <= now:
        return False
    silence.ends_at = max(now, silence.starts_at)
    silence.save(update_fields=["ends_at", "updated_at"])
    return True


def create_maintenance_window(
    *,
    name: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    customer: Customer | None = None,
    cis: Iterable[ConfigurationItem] = (),
    matchers_: Sequence[str] = (),
    include_dependents: bool = True,
    recurrence: str = Recurrence.NONE,
    weekdays: Sequence[int] = (),
    time_zone: str = "Asia/Shanghai",
    repeat_until: dt.date | None = None,
    source: Any = None,
    actor: User | None = None,
) -> MaintenanceWindow:
    """A maintenance window; the public entry point for other modules (changes).

    ``source`` (e.g. a change) is remembered as ``source_type``/``source_id`` so the caller
    can find and cancel its windows. Alerts of the CIs (and, with ``include_dependents``, of
    the CIs that depend on them) or matching ``matchers_`` are suppressed while it is active.
    """
    problems: dict[str, str] = {}
    normalised = _check_matchers(matchers_, "matchers", problems)
    cis = list(cis)
    if not name.strip():
        problems["name"] = _("This field is required.")
    if not normalised and not cis and "matchers" not in problems:
        problems["cis"] = _("Give at least one configuration item or label matcher.")
    if ends_at <= starts_at:
        problems["ends_at"] = _("The end must be after the start.")
    if recurrence not in Recurrence.values:
        problems["recurrence"] = _("Not a valid choice.")
    elif recurrence != Recurrence.NONE and ends_at - starts_at > dt.timedelta(days=7):
        problems["ends_at"] = _("A recurring window lasts at most seven days.")
    if any(not isinstance(day, int) or not 0 <= day <= 6 for day in weekdays):
        problems["weekdays"] = _("Weekdays are 0 (Monday) to 6 (Sunday).")
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems["time_zone"] = _("Unknown time zone.")
    if any(customer is not None and ci.customer_id not in (None, customer.pk) for ci in cis):
        problems["cis"] = _("Configuration items must belong to the customer.")
    if problems:
        raise AlertingError(problems)
    source_type = source_id = ""
    if source is not None:
        source_type = f"{source._meta.app_label}.{source._meta.model_name}"
        source_id = str(source.pk)
    with transaction.atomic():
        window = MaintenanceWindow.objects.create(
            name=name.strip(),
            customer=customer,
            matchers=normalised,
            include_dependents=include_dependents,
            starts_at=starts_at,
            ends_at=ends_at,
            time_zone=time_zone,
            recurrence=recurrence,
            weekdays=list(weekdays),
            repeat_until=repeat_until,
            source_type=source_type,
            source_id=source_id,
            created_by=actor,
        )
        if cis:
            window.cis.set(cis)
    return window


def send_test_alert(integration: Integration, *, user: User | None) -> Any:
    """Post a test alert through the integration's own pipeline (labelled ``opsassure_test``;
    routed as notify-only, so it opens no incident)."""
    from opsassure.alerting import ingest
    from opsassure.alerting.payloads import AlertIn, ParsedBatch

    now = timezone.now()
    labels = {
        "alertname": "OpsAssureTestAlert",
        "instance": "opsassure-test",
        "severity": "info",
        "opsassure_test": "true",
    }
    alert = AlertIn(
        fingerprint=f"test-{secrets.token_hex(8)}",
        status="firing",
        labels=labels,
        annotations={
            "summary": _("Test alert sent from OpsAssure by %(user)s") % {"user": user or "system"}
        },
        starts_at=now,
        ends_at=None,
        severity="info",
    )
    return ingest.accept(integration, ParsedBatch(alerts=[alert], meta={"test": True}), now=now)
