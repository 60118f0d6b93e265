"""Validating an agent push before anything is written (every problem is a 400).

The push (``POST /api/v1/monitoring/agent/push/``)::

    {"hostname": "web01", "addresses": ["10.0.0.5"], "version": "1.0", "interval": 30,
     "facts": {"os": "Debian 12", "kernel": "6.1.0", "cpu_count": 8,
               "memory_bytes": 33554432000, "serial": "…", "vendor": "…", "model": "…"},
     "points": [{"ts": "2026-01-05T08:00:00+00:00",
                 "metrics": [{"name": "cpu_percent", "dimension": "", "value": 12.5,
                              "unit": "%"}, …]}, …]}

``facts`` is optional (the agent sends it at start and once a day).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from opsassure.core.errors import ServiceError

MAX_POINTS = 1000
MAX_METRICS_PER_POINT = 500
MAX_ADDRESSES = 64
MAX_FACTS = 32
METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
FACT_KEYS = frozenset({"os", "kernel", "cpu_count", "memory_bytes", "serial", "vendor", "model"})


class PushError(ServiceError):
    code = "validation_error"


class AgentUnauthorizedError(ServiceError):
    status_code = 401
    code = "unauthorized"


@dataclass(frozen=True)
class MetricIn:
    name: str
    dimension: str
    value: float
    unit: str


@dataclass(frozen=True)
class PointIn:
    ts: dt.datetime
    metrics: tuple[MetricIn, ...]


@dataclass
class Push:
    hostname: str
    addresses: list[str]
    version: str
    interval: int
    facts: dict[str, Any] | None
    points: list[PointIn] = field(default_factory=list)


def parse_ts(value: Any) -> dt.datetime | None:
    """An ISO 8601 time with a zone (a naive one is refused: whose clock would it be?)."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None
    return parsed.astimezone(dt.UTC)


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or len(value.strip()) > limit:
        return None
    return value.strip()


def _metric(raw: Any, where: str, problems: dict[str, list[str]]) -> MetricIn | None:
    if not isinstance(raw, dict):
        problems[where] = [_("Must be an object with name and value.")]
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not METRIC_NAME.match(name):
        problems[f"{where}.name"] = [
            _("A metric name is lower-case letters, digits and '_' (at most 64).")
        ]
        return None
    value = raw.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems[f"{where}.value"] = [_("Must be a finite number.")]
        return None
    dimension = _text(raw.get("dimension", ""), 200)
    unit = _text(raw.get("unit", ""), 16)
    if dimension is None:
        problems[f"{where}.dimension"] = [_("Text of at most %(n)d characters.") % {"n": 200}]
        return None
    if unit is None:
        problems[f"{where}.unit"] = [_("Text of at most %(n)d characters.") % {"n": 16}]
        return None
    return MetricIn(name=name, dimension=dimension, value=float(value), unit=unit)


def _points(raw: Any, problems: dict[str, list[str]]) -> list[PointIn]:
    if not isinstance(raw, list):
        problems["points"] = [_("Must be a list.")]
        return []
    if len(raw) > MAX_POINTS:
        problems["points"] = [_("At most %(n)d points per push.") % {"n": MAX_POINTS}]
        return []
    points: list[PointIn] = []
    for index, item in enumerate(raw):
        where = f"points[{index}]"
        if not isinstance(item, dict):
            problems[where] = [_("Must be an object with ts and metrics.")]
            continue
        ts = parse_ts(item.get("ts"))
        if ts is None:
            problems[f"{where}.ts"] = [_("Must be an ISO 8601 time with a time zone.")]
            continue
        metrics = item.get("metrics")
        if not isinstance(metrics, list) or len(metrics) > MAX_METRICS_PER_POINT:
            problems[f"{where}.metrics"] = [
                _("A list of at most %(n)d metrics.") % {"n": MAX_METRICS_PER_POINT}
            ]
            continue
        parsed = [_metric(m, f"{where}.metrics[{i}]", problems) for i, m in enumerate(metrics)]
        points.append(PointIn(ts=ts, metrics=tuple(m for m in parsed if m is not None)))
    return points


def _facts(raw: Any, problems: dict[str, list[str]]) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) > MAX_FACTS:
        problems["facts"] = [_("An object of at most %(n)d facts.") % {"n": MAX_FACTS}]
        return None
    facts: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in FACT_KEYS:
            continue  # a newer agent may know more; unknown facts are ignored, not refused
        if key in {"cpu_count", "memory_bytes"}:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                problems[f"facts.{key}"] = [_("Must be a whole number.")]
                continue
        elif _text(value, 100) is None:
            problems[f"facts.{key}"] = [_("Text of at most %(n)d characters.") % {"n": 100}]
            continue
        facts[key] = value.strip() if isinstance(value, str) else value
    return facts


def parse_push(payload: Any) -> Push:
    """The push, validated as a whole: raises ``PushError`` listing every problem."""
    if not isinstance(payload, dict):
        raise PushError(_("The push must be a JSON object."))
    problems: dict[str, list[str]] = {}
    hostname = _text(payload.get("hostname"), 253)
    if not hostname:
        problems["hostname"] = [_("Required: the host name (at most 253 characters).")]
    addresses: list[str] = []
    raw_addresses = payload.get("addresses", [])
    if not isinstance(raw_addresses, list) or len(raw_addresses) > MAX_ADDRESSES:
        problems["addresses"] = [_("A list of at most %(n)d IP addresses.") % {"n": MAX_ADDRESSES}]
    else:
        for raw in raw_addresses:
            try:
                address = str(ipaddress.ip_address(str(raw).strip()))
            except ValueError:
                problems["addresses"] = [
                    _("%(value)s is not an IP address.") % {"value": str(raw)[:60]}
                ]
                break
            if address not in addresses:
                addresses.append(address)
    version = _text(payload.get("version", ""), 32)
    if version is None:
        problems["version"] = [_("Text of at most %(n)d characters.") % {"n": 32}]
    interval = payload.get("interval", 30)
    if isinstance(interval, bool) or not isinstance(interval, int) or not 1 <= interval <= 86_400:
        problems["interval"] = [_("Seconds between 1 and 86400.")]
    facts = _facts(payload.get("facts"), problems)
    points = _points(payload.get("points", []), problems)
    if problems:
        first = next(iter(problems.items()))
        raise PushError(f"{first[0]}: {first[1][0]}", fields=problems)
    return Push(
        hostname=(hostname or "").lower(),
        addresses=addresses,
        version=version or "",
        interval=int(interval),
        facts=facts,
        points=points,
    )
