"""Validation of CI type attribute schemas and of CI attributes against them."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from opsassure.cmdb.models import AttributeKind, CIType

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
MAX_ATTRIBUTES = 100


def validate_schema(schema: Any) -> list[dict[str, Any]]:
    """Return the schema if well formed, else raise ValidationError listing every problem."""
    problems: list[str] = []
    if not isinstance(schema, list):
        raise ValidationError(_("The attribute schema must be a list."))
    if len(schema) > MAX_ATTRIBUTES:
        problems.append(_("At most %(n)d attributes.") % {"n": MAX_ATTRIBUTES})
    seen: set[str] = set()
    kinds = set(AttributeKind.values)
    for index, spec in enumerate(schema, start=1):
        if not isinstance(spec, dict):
            problems.append(_("Attribute %(i)d: must be an object.") % {"i": index})
            continue
        name = spec.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(
                _("Attribute %(i)d: name must be lower-case letters, digits and '_'.")
                % {"i": index}
            )
        elif name in seen:
            problems.append(_("Attribute %(name)s is defined twice.") % {"name": name})
        else:
            seen.add(name)
        if spec.get("kind", "text") not in kinds:
            problems.append(
                _("Attribute %(i)d: unknown kind %(kind)r.")
                % {"i": index, "kind": spec.get("kind")}
            )
        if spec.get("kind") == AttributeKind.CHOICE:
            choices = spec.get("choices")
            if (
                not isinstance(choices, list)
                or not choices
                or not all(isinstance(c, str) for c in choices)
            ):
                problems.append(
                    _("Attribute %(i)d: a choice needs a list of text choices.") % {"i": index}
                )
        unknown = set(spec) - {"name", "label", "kind", "required", "choices"}
        if unknown:
            problems.append(
                _("Attribute %(i)d: unknown keys %(keys)s.")
                % {"i": index, "keys": ", ".join(sorted(unknown))}
            )
    if problems:
        raise ValidationError(problems)
    return schema


def _coerce(kind: str, value: Any, spec: dict[str, Any]) -> Any:
    if kind == AttributeKind.TEXT:
        if not isinstance(value, str | int | float):
            raise ValueError(_("must be text"))
        text = str(value)
        if len(text) > 2000:
            raise ValueError(_("is longer than 2000 characters"))
        return text
    if kind == AttributeKind.INTEGER:
        if isinstance(value, bool):
            raise ValueError(_("must be a whole number"))
        try:
            number = int(str(value).strip())
        except ValueError as error:
            raise ValueError(_("must be a whole number")) from error
        return number
    if kind == AttributeKind.DECIMAL:
        try:
            return str(Decimal(str(value).strip()))
        except InvalidOperation as error:
            raise ValueError(_("must be a number")) from error
    if kind == AttributeKind.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "y", "是"}:
            return True
        if text in {"0", "false", "no", "n", "否"}:
            return False
        raise ValueError(_("must be yes or no"))
    if kind == AttributeKind.DATE:
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError as error:
            raise ValueError(_("must be a date (YYYY-MM-DD)")) from error
    if kind == AttributeKind.CHOICE:
        if value not in spec.get("choices", []):
            raise ValueError(
                _("must be one of: %(choices)s") % {"choices": ", ".join(spec.get("choices", []))}
            )
        return value
    if kind == AttributeKind.IP:
        try:
            return str(ipaddress.ip_address(str(value).strip()))
        except ValueError as error:
            raise ValueError(_("must be an IP address")) from error
    raise ValueError(_("has an unknown kind"))


def clean_attributes(ci_type: CIType, attributes: Any) -> dict[str, Any]:
    """Attributes checked and normalised against the type's schema; every problem reported."""
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        raise ValidationError({"attributes": [_("Attributes must be an object.")]})
    specs = {spec["name"]: spec for spec in ci_type.attribute_schema}
    problems: list[str] = []
    cleaned: dict[str, Any] = {}
    for name in sorted(set(attributes) - set(specs)):
        problems.append(
            _("%(name)s: not an attribute of type %(type)s") % {"name": name, "type": ci_type}
        )
    for name, spec in specs.items():
        value = attributes.get(name)
        if value is None or value == "":
            if spec.get("required"):
                problems.append(_("%(name)s: required") % {"name": name})
            continue
        try:
            cleaned[name] = _coerce(spec.get("kind", "text"), value, spec)
        except ValueError as error:
            problems.append(f"{name}: {error}")
    if problems:
        raise ValidationError({"attributes": problems})
    return cleaned
