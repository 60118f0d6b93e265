"""Reading a probe's results batch: every field checked before anything is stored. A batch
with any malformed result is refused whole (400), so a probe bug cannot half-store a batch."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

MAX_MESSAGE = 300
MAX_METRICS_PER_RESULT = 500


class ProtocolError(ValueError):
    """The batch does not follow the protocol (the API answers 400)."""

    status = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class BatchTooLargeError(ProtocolError):
    status = 413


@dataclass(frozen=True, slots=True)
class MetricIn:
    name: str
    value: float
    dimension: str = ""
    unit: str = ""


@dataclass(frozen=True, slots=True)
class ResultIn:
    check_id: int
    started_at: dt.datetime
    status: int
    response_ms: float | None = None
    message: str = ""
    cert_expires_at: dt.datetime | None = None
    metrics: tuple[MetricIn, ...] = ()


def _timestamp(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ProtocolError(field, _("must be an ISO 8601 timestamp"))
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise ProtocolError(field, _("must be an ISO 8601 timestamp")) from error
    if parsed.tzinfo is None:
        raise ProtocolError(field, _("must include a time zone offset"))
    return parsed.astimezone(dt.UTC)


def _number(value: Any, field: str, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError(field, _("must be a finite number"))
    if minimum is not None and value < minimum:
        raise ProtocolError(field, _("must not be negative"))
    return float(value)


def _text(value: Any, field: str, limit: int, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ProtocolError(
            field, _("must be a non-empty string") if required else _("must be a string")
        )
    if len(value) > limit:
        raise ProtocolError(field, _("is longer than %(limit)d characters") % {"limit": limit})
    return value


def _metrics(value: Any, field: str) -> tuple[MetricIn, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ProtocolError(field, _("must be a list"))
    if len(value) > MAX_METRICS_PER_RESULT:
        raise ProtocolError(
            field, _("has more than %(limit)d items") % {"limit": MAX_METRICS_PER_RESULT}
        )
    out: list[MetricIn] = []
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(item, dict):
            raise ProtocolError(where, _("must be an object"))
        out.append(
            MetricIn(
                name=_text(item.get("name"), f"{where}.name", 64, required=True),
                value=_number(item.get("value"), f"{where}.value"),
                dimension=_text(item.get("dimension"), f"{where}.dimension", 200),
                unit=_text(item.get("unit"), f"{where}.unit", 16),
            )
        )
    return tuple(out)


def parse_result(item: Any, index: int) -> ResultIn:
    where = f"results[{index}]"
    if not isinstance(item, dict):
        raise ProtocolError(where, _("must be an object"))
    check = item.get("check")
    if isinstance(check, bool) or not isinstance(check, int) or check <= 0:
        raise ProtocolError(f"{where}.check", _("must be a check id"))
    status = item.get("status")
    if isinstance(status, bool) or status not in (0, 1, 2):
        raise ProtocolError(f"{where}.status", _("must be 0 (up), 1 (degraded) or 2 (down)"))
    response = item.get("response_ms")
    message = item.get("message")
    if isinstance(message, str):
        message = message[:MAX_MESSAGE]  # a long diagnostic is cut, not refused
    cert = item.get("cert_expires_at")
    return ResultIn(
        check_id=check,
        started_at=_timestamp(item.get("started_at"), f"{where}.started_at"),
        status=int(status),
        response_ms=None
        if response is None
        else _number(response, f"{where}.response_ms", minimum=0),
        message=_text(message, f"{where}.message", MAX_MESSAGE),
        cert_expires_at=None if cert is None else _timestamp(cert, f"{where}.cert_expires_at"),
        metrics=_metrics(item.get("metrics"), f"{where}.metrics"),
    )


def parse_results(payload: Any) -> tuple[uuid.UUID, list[ResultIn]]:
    """``{"batch_id": uuid, "results": [...]}`` → (batch id, results), or ProtocolError."""
    if not isinstance(payload, dict):
        raise ProtocolError("body", _("must be a JSON object"))
    try:
        batch_id = uuid.UUID(str(payload.get("batch_id") or ""))
    except ValueError as error:
        raise ProtocolError("batch_id", _("must be a UUID")) from error
    results = payload.get("results")
    if not isinstance(results, list):
        raise ProtocolError("results", _("must be a list"))
    limit = settings.MONITORING_MAX_RESULTS_PER_BATCH
    if len(results) > limit:
        raise BatchTooLargeError(
            "results", _("has more than %(limit)d results; send smaller batches") % {"limit": limit}
        )
    return batch_id, [parse_result(item, index) for index, item in enumerate(results)]
