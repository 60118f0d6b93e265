"""Discovery reconciliation: what agents and scanners observe vs. what the CMDB records.

An observation (``record_discovery``) is stored as a ``Discovery`` row, matched to at most one
CI the reporter may see, and every observed fact that differs from the CI's recorded value
becomes an open ``Discrepancy``. Nothing on the CI changes until a person decides:
``accept_discrepancy`` writes the observed value through ``services.update_ci`` (history
source "discovery"), ``reject_discrepancy`` keeps the record.

Rules worth knowing:

- A fact that is absent, null, "" or [] was *not observed*: it never creates a discrepancy.
- One open discrepancy per CI field (a partial unique constraint): a newer observation replaces
  the open one; when the newest observation agrees with the record again, the stale open one is
  removed (accepting it would write an outdated value).
- A rejection sticks: the same observed value against the same recorded value is not raised
  again; a different observed value (or a changed record) is.
- Facts naming an attribute the CI's type does not define are stored with the discovery but
  produce no discrepancy (there is nothing to reconcile them with).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from opsassure.cmdb import services
from opsassure.cmdb.models import CIAddress, ConfigurationItem, Discovery, Discrepancy
from opsassure.cmdb.schema import _coerce
from opsassure.core import audit
from opsassure.core.models import AuditEvent, Customer, User

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_FACTS = 200
MAX_SOURCE_LENGTH = 50
ATTR_PREFIX = "attr:"
_ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")

# Facts stored in a common CI field, with the field's maximum length (None: an IP address).
FIELD_FACTS: dict[str, int | None] = {
    "hostname": 253,
    "serial_number": 100,
    "vendor": 100,
    "model": 100,
    "primary_ip": None,
}
# Well-known facts that live in the CI type's attributes (e.g. server: os, cpu_count, memory_gb).
ATTRIBUTE_FACTS = ("os", "cpu_count", "memory_gb")
ALLOWED_FACTS = frozenset({*FIELD_FACTS, *ATTRIBUTE_FACTS, "ip_addresses"})
MATCH_KEYS = frozenset({"ci", "serial_number", "hostname", "ip_addresses", "primary_ip"})
_MAX_TEXT = 2000


class DiscoveryError(Exception):
    """A refusal with its own status code in the API (not a plain validation error)."""


class PayloadTooLargeError(DiscoveryError):
    """The observation is larger than ``MAX_PAYLOAD_BYTES`` (HTTP 413)."""


class AlreadyDecidedError(DiscoveryError):
    """Accept/reject of a discrepancy that is no longer open (HTTP 409)."""


# --- Validation --------------------------------------------------------------------------------


def _text(key: str, value: Any, limit: int, problems: list[str]) -> str | None:
    if not isinstance(value, str):
        problems.append(_("%(key)s: must be text.") % {"key": key})
        return None
    text = value.strip()
    if len(text) > limit:
        problems.append(_("%(key)s: at most %(n)d characters.") % {"key": key, "n": limit})
        return None
    return text


def _ip(key: str, value: Any, problems: list[str]) -> str | None:
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        problems.append(_("%(key)s: not an IP address.") % {"key": key})
        return None


def _ip_list(key: str, value: Any, problems: list[str]) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(_("%(key)s: must be a list of IP addresses.") % {"key": key})
        return None
    try:
        return sorted(services.normalise_addresses(value))
    except ValidationError as error:
        problems.extend(f"{key}: {message}" for message in error.messages)
        return None


def _scalar(key: str, value: Any, problems: list[str]) -> Any:
    if isinstance(value, str):
        return _text(key, value, _MAX_TEXT, problems)
    if value is None or isinstance(value, bool | int | float):
        return value
    problems.append(_("%(key)s: must be text, a number or yes/no.") % {"key": key})
    return None


def _check_size(payload: Any) -> None:
    size = len(json.dumps(payload, ensure_ascii=False, default=str).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadTooLargeError(
            _("The observation is %(size)d bytes; the limit is %(limit)d bytes.")
            % {"size": size, "limit": MAX_PAYLOAD_BYTES}
        )


def clean_facts(facts: Any) -> dict[str, Any]:
    """Observed values by discrepancy field ("hostname", "ip_addresses", "attr:os", …).

    Raises ``PayloadTooLargeError`` or ``ValidationError`` (listing every problem). Facts that were
    not observed (null, "", []) are left out of the result.
    """
    if not isinstance(facts, dict):
        raise ValidationError({"facts": [_("Facts must be an object.")]})
    _check_size(facts)
    if len(facts) > MAX_FACTS:
        raise ValidationError(
            {"facts": [_("At most %(n)d facts per observation.") % {"n": MAX_FACTS}]}
        )
    problems: list[str] = []
    observed: dict[str, Any] = {}
    for key, value in facts.items():
        if not isinstance(key, str):
            problems.append(_("%(key)s: unknown fact.") % {"key": str(key)[:60]})
            continue
        if key in FIELD_FACTS:
            limit = FIELD_FACTS[key]
            if value is None or value == "":
                continue
            if limit is None:
                cleaned: Any = _ip(key, value, problems)
            else:
                cleaned = _text(key, value, limit, problems)
            field = key
        elif key == "ip_addresses":
            cleaned, field = _ip_list(key, value, problems), key
        elif key in ATTRIBUTE_FACTS or key.startswith(ATTR_PREFIX):
            name = key.removeprefix(ATTR_PREFIX)
            if not _ATTRIBUTE_NAME.match(name):
                problems.append(
                    _("%(key)s: an attribute name is lower-case letters, digits and '_'.")
                    % {"key": key[:60]}
                )
                continue
            field = ATTR_PREFIX + name
            if field in observed or (key in ATTRIBUTE_FACTS and field in facts):
                problems.append(_("%(key)s: given twice.") % {"key": name})
                continue
            cleaned = _scalar(key, value, problems)
        else:
            problems.append(_("%(key)s: unknown fact.") % {"key": str(key)[:60]})
            continue
        if cleaned is not None and cleaned != "" and cleaned != []:
            observed[field] = cleaned
    if problems:
        raise ValidationError({"facts": problems})
    return observed


def clean_match(match: Any) -> dict[str, Any]:
    """Explicit matching keys (they take precedence over the facts)."""
    if match is None:
        return {}
    if not isinstance(match, dict):
        raise ValidationError({"match": [_("Match must be an object.")]})
    problems: list[str] = []
    cleaned: dict[str, Any] = {}
    for key, value in match.items():
        if key not in MATCH_KEYS:
            problems.append(_("%(key)s: unknown match key.") % {"key": str(key)[:60]})
        elif key == "ci":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                problems.append(_("ci: must be a CI id."))
            else:
                cleaned["ci"] = value
        elif key == "ip_addresses":
            cleaned[key] = _ip_list(key, value, problems)
        elif key == "primary_ip":
            cleaned[key] = _ip(key, value, problems)
        else:
            cleaned[key] = _text(key, value, FIELD_FACTS[key] or 0, problems)
    if problems:
        raise ValidationError({"match": problems})
    return {key: value for key, value in cleaned.items() if value not in (None, "", [])}


# --- Matching ----------------------------------------------------------------------------------


def _candidates(actor: User, customer: Customer | None) -> QuerySet[ConfigurationItem]:
    """CIs a reporter may match: visible to it and of the one customer the report is about."""
    visible = ConfigurationItem.objects.visible_to(actor)
    if customer is None:
        return visible.filter(customer__isnull=True)
    return visible.filter(customer=customer)


def _unique(ids: list[int]) -> int | None:
    return ids[0] if len(ids) == 1 else None


def find_ci(
    candidates: QuerySet[ConfigurationItem], keys: Mapping[str, Any]
) -> tuple[int | None, str]:
    """(CI id, matched_by) by explicit id, serial number, hostname, then any IP address.

    A key that hits several CIs is ambiguous and skipped (the next key may still decide).
    """
    if "ci" in keys:
        found = _unique(list(candidates.filter(pk=keys["ci"]).values_list("pk", flat=True)[:2]))
        if found is not None:
            return found, "id"
    serial = keys.get("serial_number")
    if serial:
        rows = candidates.filter(serial_number=serial).values_list("pk", flat=True)[:2]
        found = _unique(list(rows))
        if found is not None:
            return found, "serial_number"
    hostname = keys.get("hostname")
    if hostname:
        # Exact first (indexed); DNS names are case-insensitive, so fall back to iexact.
        rows = candidates.filter(hostname=hostname).values_list("pk", flat=True)[:2]
        hits = list(rows) or list(
            candidates.filter(hostname__iexact=hostname).values_list("pk", flat=True)[:2]
        )
        found = _unique(hits)
        if found is not None:
            return found, "hostname"
    addresses = sorted(
        {*keys.get("ip_addresses", []), *([keys["primary_ip"]] if keys.get("primary_ip") else [])}
    )
    if addresses:
        rows = (
            CIAddress.objects.filter(address__in=addresses, ci__in=candidates)
            .values_list("ci_id", flat=True)
            .distinct()
            .order_by("ci_id")[:2]
        )
        found = _unique(list(rows))
        if found is not None:
            return found, "ip_address"
    return None, ""


# --- Comparison --------------------------------------------------------------------------------


def recorded_value(ci: ConfigurationItem, field: str, addresses: list[str]) -> Any:
    if field == "ip_addresses":
        return addresses
    if field.startswith(ATTR_PREFIX):
        return ci.attributes.get(field.removeprefix(ATTR_PREFIX))
    value = getattr(ci, field)
    return value if value not in (None, "") else None


def _comparable(ci: ConfigurationItem, field: str, observed: Any) -> tuple[bool, Any]:
    """(applies to this CI, observed value normalised like the record would store it)."""
    if not field.startswith(ATTR_PREFIX):
        return True, observed
    spec = ci.ci_type.attribute(field.removeprefix(ATTR_PREFIX))
    if spec is None:
        return False, observed
    try:
        return True, _coerce(spec.get("kind", "text"), observed, spec)
    except ValueError:
        # Keep the raw value: a person sees it, and accepting it reports why it does not fit.
        return True, observed


def _same(field: str, recorded: Any, observed: Any) -> bool:
    if field == "hostname" and isinstance(recorded, str):
        return recorded.casefold() == str(observed).casefold()
    return bool(recorded == observed)


def _resolve_customer(actor: User, customer: Customer | None) -> Customer | None:
    if actor.customer_id is not None:
        if customer is not None and customer.pk != actor.customer_id:
            raise ValidationError({"customer": [_("Not your customer.")]})
        return actor.customer
    if (
        customer is not None
        and not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists()
    ):
        raise ValidationError({"customer": [_("Unknown customer.")]})
    return customer


@transaction.atomic
def record_discovery(
    *,
    actor: User,
    source: str,
    facts: dict[str, Any],
    match: dict[str, Any] | None = None,
    customer: Customer | None = None,
) -> Discovery:
    """Store an observation, match it to a CI, and open a discrepancy per differing fact.

    The CI is searched among the CIs ``actor`` may see that belong to ``customer`` (a customer
    user's own customer when not given; shared provider CIs for provider staff who name no
    customer). Unmatched observations are stored with ``ci=None`` ("unknown devices").
    All or nothing: a ``ValidationError``/``PayloadTooLargeError`` stores nothing.
    """
    source = (source or "").strip()
    if not source or len(source) > MAX_SOURCE_LENGTH:
        raise ValidationError({"source": [_("1 to %(n)d characters.") % {"n": MAX_SOURCE_LENGTH}]})
    observed = clean_facts(facts)
    keys = {**{k: v for k, v in observed.items() if k in MATCH_KEYS}, **clean_match(match)}
    customer = _resolve_customer(actor, customer)
    ci_id, matched_by = find_ci(_candidates(actor, customer), keys)
    ci = None
    if ci_id is not None:
        # Lock the CI first (accept does the same): one reconciliation of a CI at a time.
        ci = (
            ConfigurationItem.objects.select_for_update(of=("self",))
            .select_related("ci_type")
            .get(pk=ci_id)
        )
    discovery = Discovery.objects.create(
        received_at=timezone.now(),
        source=source,
        customer=customer,
        ci=ci,
        facts=facts,
        matched_by=matched_by,
        reported_by=actor,
    )
    if ci is not None:
        _reconcile(discovery, ci, observed)
    return discovery


def _reconcile(discovery: Discovery, ci: ConfigurationItem, observed: dict[str, Any]) -> None:
    addresses = sorted(ci.addresses.values_list("address", flat=True))
    differing: dict[str, tuple[Any, Any]] = {}
    settled: list[str] = []  # fields whose newest observation leaves nothing to decide
    for field, raw in observed.items():
        applies, value = _comparable(ci, field, raw)
        if not applies:
            continue
        recorded = recorded_value(ci, field, addresses)
        if _same(field, recorded, value):
            settled.append(field)
        else:
            differing[field] = (recorded, value)
    if differing:
        rejected = (
            Discrepancy.objects.filter(
                ci=ci, field__in=list(differing), status=Discrepancy.Status.REJECTED
            )
            .order_by("field", "-decided_at", "-id")
            .values_list("field", "recorded_value", "observed_value")
        )
        latest: dict[str, tuple[Any, Any]] = {}
        for field, recorded, value in rejected:
            latest.setdefault(field, (recorded, value))
        for field, pair in latest.items():
            if pair == differing[field]:
                del differing[field]
                settled.append(field)
    if settled:
        Discrepancy.objects.filter(
            ci=ci, field__in=settled, status=Discrepancy.Status.OPEN
        ).delete()
    for field, (recorded, value) in sorted(differing.items()):
        Discrepancy.objects.update_or_create(
            ci=ci,
            field=field,
            status=Discrepancy.Status.OPEN,
            defaults={
                "discovery": discovery,
                "recorded_value": recorded,
                "observed_value": value,
            },
        )


# --- Decisions ---------------------------------------------------------------------------------


def _lock_open(discrepancy: Discrepancy) -> Discrepancy:
    """Lock CI, then discrepancy (the order record_discovery uses); refuse decided ones."""
    list(
        ConfigurationItem.objects.select_for_update()
        .filter(pk=discrepancy.ci_id)
        .values_list("pk", flat=True)
    )
    locked = (
        Discrepancy.objects.select_for_update(of=("self",))
        .select_related("ci", "ci__ci_type")
        .get(pk=discrepancy.pk)
    )
    if locked.status != Discrepancy.Status.OPEN:
        when = locked.decided_at.isoformat() if locked.decided_at else "?"
        who = locked.decided_by.get_username() if locked.decided_by else _("someone")
        raise AlreadyDecidedError(
            _("This discrepancy was already decided (%(status)s by %(who)s at %(when)s).")
            % {"status": locked.get_status_display(), "who": who, "when": when}
        )
    return locked


def _decide(discrepancy: Discrepancy, actor: User, status: str) -> None:
    discrepancy.status = status
    discrepancy.decided_by = actor
    discrepancy.decided_at = timezone.now()
    discrepancy.save(update_fields=["status", "decided_by", "decided_at"])
    audit.record(
        AuditEvent.Action.UPDATE,
        instance=discrepancy,
        customer_id=discrepancy.ci.customer_id,
        changes={
            "status": [Discrepancy.Status.OPEN.value, status],
            "field": discrepancy.field,
            "recorded_value": discrepancy.recorded_value,
            "observed_value": discrepancy.observed_value,
        },
    )


def _update_values(ci: ConfigurationItem, field: str, value: Any) -> dict[str, Any]:
    if field == "ip_addresses":
        return {"ip_addresses": value}
    if field.startswith(ATTR_PREFIX):
        return {"attributes": {**ci.attributes, field.removeprefix(ATTR_PREFIX): value}}
    return {field: value}


@transaction.atomic
def accept_discrepancy(discrepancy: Discrepancy, actor: User) -> Discrepancy:
    """Write the observed value to the CI (history source "discovery") and mark it accepted.

    Raises ``AlreadyDecidedError`` if it is no longer open (nothing changes: a repeated request
    never applies twice) and ``ValidationError`` if the value does not fit the CI.
    """
    locked = _lock_open(discrepancy)
    services.update_ci(
        locked.ci,
        actor=actor,
        source="discovery",
        **_update_values(locked.ci, locked.field, locked.observed_value),
    )
    _decide(locked, actor, Discrepancy.Status.ACCEPTED)
    return locked


@transaction.atomic
def reject_discrepancy(discrepancy: Discrepancy, actor: User) -> Discrepancy:
    """Keep the recorded value; the same observation will not be raised again."""
    locked = _lock_open(discrepancy)
    _decide(locked, actor, Discrepancy.Status.REJECTED)
    return locked
