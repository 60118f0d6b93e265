"""What a configuration audit rule may say: parameters per kind and the custom-filter allow-list.

A ``custom`` rule's ``failing_filter`` is a dict of ``{"field__lookup": value}`` that selects the
CIs that *fail*. Only the fields and lookups listed here are accepted, so a rule can never reach
another table, a JSON path or a lookup that is slow or unsafe (regex). Validation reports every
bad key at once; the same function runs when a rule is saved through the API and again when a
run evaluates it (a rule written some other way cannot break a run halfway).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from opsassure.cmdb.models import ConfigAuditRule, ConfigurationItem

_TEXT = frozenset(
    {
        "exact",
        "iexact",
        "contains",
        "icontains",
        "startswith",
        "istartswith",
        "endswith",
        "iendswith",
        "in",
    }
)
_CHOICE = frozenset({"exact", "in"})
_ORDERED = frozenset({"exact", "lt", "lte", "gt", "gte", "in", "isnull"})
_REFERENCE = frozenset({"exact", "in", "isnull"})

# field path (as in a Django filter) -> allowed lookups
CUSTOM_FILTER_FIELDS: dict[str, frozenset[str]] = {
    "name": _TEXT,
    "hostname": _TEXT,
    "vendor": _TEXT,
    "model": _TEXT,
    "serial_number": _TEXT,
    "asset_tag": _TEXT,
    "description": _TEXT,
    "monitoring_endpoint": _TEXT,
    "status": _CHOICE,
    "environment": _CHOICE,
    "criticality": _ORDERED - {"isnull"},
    "primary_ip": frozenset({"exact", "in", "isnull"}),
    "rack_unit": _ORDERED,
    "purchase_date": _ORDERED,
    "cost": _ORDERED,
    "warranty_end": _ORDERED,
    "depreciation_months": _ORDERED,
    "verified_at": _ORDERED,
    "created_at": _ORDERED - {"isnull"},
    "updated_at": _ORDERED - {"isnull"},
    "owner_team": _REFERENCE,
    "location": _REFERENCE,
    "supplier": _REFERENCE,
    "maintenance_contract": _REFERENCE,
    "ci_type__code": _CHOICE,
}
MAX_FILTER_KEYS = 20
MAX_IN_VALUES = 200
MAX_DAYS = 3650

_PARAMS: dict[str, frozenset[str]] = {
    ConfigAuditRule.Kind.NOT_VERIFIED: frozenset({"days"}),
}


def _split(key: str) -> tuple[str, str]:
    if key in CUSTOM_FILTER_FIELDS:
        return key, "exact"
    field, _sep, lookup = key.rpartition("__")
    return (field, lookup) if field else (key, "")


def _model_field(path: str) -> models.Field[Any, Any]:
    model: Any = ConfigurationItem
    parts = path.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model
    field: models.Field[Any, Any] = model._meta.get_field(parts[-1])
    return field


def _clean_scalar(field: models.Field[Any, Any], value: Any) -> Any:
    """One comparison value, converted the way the database will compare it."""
    if isinstance(value, bool) and not isinstance(field, models.BooleanField):
        raise ValidationError(_("a yes/no value is not a valid %(what)s") % {"what": field.name})
    if value is None or isinstance(value, dict | list):
        raise ValidationError(_("must be a single value"))
    if isinstance(field, models.DateTimeField):
        parsed = parse_datetime(str(value))
        if parsed is None or parsed.tzinfo is None:
            raise ValidationError(_("must be a date and time with a UTC offset (ISO 8601)"))
        return parsed
    if isinstance(field, models.ForeignKey):
        if not isinstance(value, int):
            raise ValidationError(_("must be an id (a whole number)"))
        return value
    # to_python + choices + validators (e.g. a valid IP address, max length, digits).
    return field.clean(value, None)


def clean_failing_filter(raw: Any) -> dict[str, Any]:
    """The filter with values converted for the query; ValidationError lists every bad key."""
    if not isinstance(raw, dict) or not raw:
        raise ValidationError(_('A custom rule needs a filter, e.g. {"vendor": ""}.'))
    problems: list[str] = []
    if len(raw) > MAX_FILTER_KEYS:
        problems.append(_("At most %(n)d conditions.") % {"n": MAX_FILTER_KEYS})
    cleaned: dict[str, Any] = {}
    for key, value in raw.items():
        field_path, lookup = _split(str(key))
        allowed = CUSTOM_FILTER_FIELDS.get(field_path)
        if allowed is None:
            problems.append(
                _("%(key)s: unknown field %(field)s (allowed: %(allowed)s)")
                % {
                    "key": key,
                    "field": field_path,
                    "allowed": ", ".join(sorted(CUSTOM_FILTER_FIELDS)),
                }
            )
            continue
        if lookup not in allowed:
            problems.append(
                _("%(key)s: lookup %(lookup)s is not allowed for %(field)s (allowed: %(allowed)s)")
                % {
                    "key": key,
                    "lookup": lookup or "''",
                    "field": field_path,
                    "allowed": ", ".join(sorted(allowed)),
                }
            )
            continue
        try:
            field = _model_field(field_path)
            if lookup == "isnull":
                if not isinstance(value, bool):
                    raise ValidationError(_("must be true or false"))
                cleaned[f"{field_path}__isnull"] = value
            elif lookup == "in":
                if not isinstance(value, list) or not value or len(value) > MAX_IN_VALUES:
                    raise ValidationError(
                        _("must be a list of 1 to %(n)d values") % {"n": MAX_IN_VALUES}
                    )
                cleaned[f"{field_path}__in"] = [_clean_scalar(field, item) for item in value]
            else:
                if lookup != "exact" and not isinstance(value, str | int | float):
                    raise ValidationError(_("must be a single value"))
                cleaned[f"{field_path}__{lookup}"] = _clean_scalar(field, value)
        except (ValidationError, FieldDoesNotExist, TypeError, ValueError) as error:
            messages = error.messages if isinstance(error, ValidationError) else [str(error)]
            problems.append(f"{key}: {'; '.join(str(m) for m in messages)}")
    if problems:
        raise ValidationError(problems)
    return cleaned


def clean_days(params: dict[str, Any]) -> int:
    days = params.get("days", 90)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationError(_("days: a whole number from 1 to %(max)d") % {"max": MAX_DAYS})
    return days


def validate_rule(kind: str, params: Any, failing_filter: Any) -> None:
    """Check a rule definition; raises ValidationError({"params"|"failing_filter": [...]})."""
    problems: dict[str, list[str]] = {}
    if not isinstance(params, dict):
        problems["params"] = [_("Parameters must be an object.")]
    else:
        allowed = _PARAMS.get(kind, frozenset())
        unknown = sorted(set(params) - allowed)
        messages: list[str] = []
        if unknown:
            messages.append(
                _("Unknown parameters for this kind: %(keys)s") % {"keys": ", ".join(unknown)}
            )
        if kind == ConfigAuditRule.Kind.NOT_VERIFIED:
            try:
                clean_days(params)
            except ValidationError as error:
                messages.extend(error.messages)
        if messages:
            problems["params"] = messages
    if kind == ConfigAuditRule.Kind.CUSTOM:
        try:
            clean_failing_filter(failing_filter)
        except ValidationError as error:
            problems["failing_filter"] = error.messages
    elif failing_filter not in ({}, None):
        problems["failing_filter"] = [_("Only a custom rule has a filter.")]
    if problems:
        raise ValidationError(problems)


def describe_filter(failing_filter: dict[str, Any]) -> str:
    """The filter as its author wrote it, e.g. ``vendor='', environment__in=['production']``."""
    return ", ".join(f"{key}={value!r}" for key, value in failing_filter.items())
