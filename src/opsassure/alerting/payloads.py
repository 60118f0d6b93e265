"""Parsing what senders post into one normal form (pure functions, no database).

Every parser takes the decoded JSON and returns a ``ParsedBatch`` or raises ``PayloadError``
with a reason the sender can read (the endpoint answers 400 with it and stores nothing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

GO_ZERO_YEAR = 1  # Go's zero time (0001-01-01T00:00:00Z) means "not set"
MAX_ALERTS = 10_000


class PayloadError(ValueError):
    """Input we refuse; ``field`` names where (e.g. ``alerts[3].labels``)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class AlertIn:
    fingerprint: str
    status: str  # firing | resolved
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    generator_url: str = ""
    severity: str = "warning"

    @property
    def alertname(self) -> str:
        return self.labels.get("alertname", "")[:200]

    @property
    def summary(self) -> str:
        for key in ("summary", "title", "message", "description"):
            if self.annotations.get(key):
                return self.annotations[key][:500]
        return self.alertname[:500]


@dataclass
class ParsedBatch:
    alerts: list[AlertIn]
    group_key: str = ""
    status: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    # events API: acknowledgements, applied to the group by the worker
    actions: list[dict[str, str]] = field(default_factory=list)
    reply: dict[str, Any] | None = None  # body of the 2xx (events API)
    reply_status: int = 200


SEVERITY_WORDS = {
    "critical": "critical",
    "crit": "critical",
    "disaster": "critical",
    "emergency": "critical",
    "fatal": "critical",
    "page": "critical",
    "p1": "critical",
    "high": "high",
    "major": "high",
    "error": "high",
    "p2": "high",
    "warning": "warning",
    "warn": "warning",
    "average": "warning",
    "minor": "warning",
    "medium": "warning",
    "p3": "warning",
    "info": "info",
    "information": "info",
    "informational": "info",
    "low": "info",
    "none": "info",
    "ok": "info",
    "not classified": "info",
    "p4": "info",
    "p5": "info",
}


def severity_of(value: object, default: str = "warning") -> str:
    """Our four severities from a sender's word (case-insensitive); unknown words → default."""
    if value is None:
        return default
    return SEVERITY_WORDS.get(str(value).strip().lower(), default)


def labels_fingerprint(labels: Mapping[str, str]) -> str:
    """SHA-256 (hex) of the sorted label set: the identity when the sender gives none."""
    canonical = json.dumps(sorted(labels.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _fingerprint(raw: object, labels: Mapping[str, str]) -> str:
    if isinstance(raw, str) and raw.strip():
        text = raw.strip()
        return text if len(text) <= 64 else hashlib.sha256(text.encode("utf-8")).hexdigest()
    return labels_fingerprint(labels)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _string_map(value: object, where: str, *, required: bool = False) -> dict[str, str]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise PayloadError("must be an object of strings", where)
    if required and not value:
        raise PayloadError("must not be empty", where)
    # The usual case, checked in one pass without a call per entry: strings to strings.
    if all(type(key) is str and key and type(item) is str for key, item in value.items()):
        return dict(value)
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise PayloadError("label names must be non-empty strings", where)
        out[key] = _text(item)
    return out


def parse_time(value: object, where: str, *, required: bool = False) -> dt.datetime | None:
    """RFC 3339 / ISO 8601 (nanoseconds allowed; no zone = UTC) or Unix seconds."""
    if value in (None, ""):
        if required:
            raise PayloadError("is required", where)
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
        except (OverflowError, OSError, ValueError) as error:
            raise PayloadError("is not a valid Unix time", where) from error
    if not isinstance(value, str):
        raise PayloadError("must be an RFC 3339 time", where)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as error:
        raise PayloadError("must be an RFC 3339 time", where) from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    if parsed.year <= GO_ZERO_YEAR:
        return None
    return parsed.astimezone(dt.UTC)


def _status(value: object, where: str) -> str:
    if value not in ("firing", "resolved"):
        raise PayloadError('must be "firing" or "resolved"', where)
    return str(value)


def _alerts_list(payload: Mapping[str, Any]) -> list[Any]:
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("is required and must be a list", "alerts")
    if len(alerts) > MAX_ALERTS:
        raise PayloadError(f"at most {MAX_ALERTS} alerts per request", "alerts")
    return alerts


def _prometheus_alert(raw: Any, now: dt.datetime) -> AlertIn:
    """One alert of an Alertmanager or Grafana payload; errors name the field within it."""
    if not isinstance(raw, dict):
        raise PayloadError("must be an object")
    labels = _string_map(raw.get("labels"), "labels", required=True)
    status = _status(raw.get("status"), "status")
    starts_at = parse_time(raw.get("startsAt"), "startsAt") or now
    ends_at = parse_time(raw.get("endsAt"), "endsAt")
    if status == "firing":
        ends_at = None  # Alertmanager sends a future "resolve timeout" time for firing alerts
    annotations = _string_map(raw.get("annotations"), "annotations")
    generator = raw.get("generatorURL") or raw.get("panelURL") or ""
    return AlertIn(
        fingerprint=_fingerprint(raw.get("fingerprint"), labels),
        status=status,
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=ends_at or (now if status == "resolved" else None),
        generator_url=_text(generator)[:1000],
        severity=severity_of(labels.get("severity") or labels.get("priority")),
    )


def _prometheus_style(payload: Any, now: dt.datetime, kind: str) -> ParsedBatch:
    """Alertmanager webhook (version 4) and Grafana alerting (same alert shape)."""
    if not isinstance(payload, dict):
        raise PayloadError("the body must be a JSON object")
    alerts: list[AlertIn] = []
    for index, raw in enumerate(_alerts_list(payload)):
        try:
            alerts.append(_prometheus_alert(raw, now))
        except PayloadError as error:  # where it happened, spelled out only when it did
            where = f"alerts[{index}]"
            raise PayloadError(
                error.message, f"{where}.{error.field}" if error.field else where
            ) from None
    status = payload.get("status", "")
    if status not in ("", "firing", "resolved"):
        raise PayloadError('must be "firing" or "resolved"', "status")
    version = payload.get("version")
    if kind == "alertmanager" and version not in (None, "4", 4):
        raise PayloadError('unsupported version (expected "4")', "version")
    meta = {
        key: payload[key]
        for key in (
            "version",
            "receiver",
            "groupLabels",
            "commonLabels",
            "commonAnnotations",
            "externalURL",
            "truncatedAlerts",
            "notification_reason",
            "routeLabels",
            "orgId",
            "title",
            "state",
        )
        if key in payload
    }
    group_key = payload.get("groupKey") or ""
    return ParsedBatch(
        alerts=alerts, group_key=_text(group_key)[:500], status=str(status), meta=meta
    )


def parse_alertmanager(payload: Any, now: dt.datetime) -> ParsedBatch:
    return _prometheus_style(payload, now, "alertmanager")


def parse_grafana(payload: Any, now: dt.datetime) -> ParsedBatch:
    return _prometheus_style(payload, now, "grafana")


ZABBIX_SEVERITY = {
    "0": "info",  # not classified
    "1": "info",  # information
    "2": "warning",  # warning
    "3": "warning",  # average
    "4": "high",  # high
    "5": "critical",  # disaster
}


def _zabbix_tags(value: object) -> dict[str, str]:
    """``{EVENT.TAGSJSON}`` ([{"tag": "k", "value": "v"}]) or ``{EVENT.TAGS}`` ("k:v, k2:v2")."""
    tags: dict[str, str] = {}
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                value = []
        else:
            for part in text.split(","):
                name, _sep, item = part.strip().partition(":")
                if name.strip() and not name.strip().startswith("{"):
                    tags[name.strip()] = item.strip()
            return tags
    if isinstance(value, list):
        for entry in value:
            if isinstance(entry, dict) and isinstance(entry.get("tag"), str) and entry["tag"]:
                tags[entry["tag"]] = _text(entry.get("value", ""))
    return tags


def parse_zabbix(payload: Any, now: dt.datetime) -> ParsedBatch:
    """Our Zabbix webhook media type (docs/alerting.md): one event per request."""
    if not isinstance(payload, dict):
        raise PayloadError("the body must be a JSON object")
    for name in ("event_id", "event_value", "event_name", "host"):
        if payload.get(name) in (None, ""):
            raise PayloadError("is required", name)
    value = str(payload["event_value"]).strip()
    if value not in ("0", "1"):
        raise PayloadError('must be "1" (problem) or "0" (recovery)', "event_value")
    status = "firing" if value == "1" else "resolved"
    severity_raw = str(payload.get("severity", "")).strip()
    severity = ZABBIX_SEVERITY.get(severity_raw) or severity_of(severity_raw)
    host = _text(payload["host"])
    labels = {
        "alertname": _text(payload.get("trigger_name") or payload["event_name"]),
        "host": host,
        "instance": host,
        "severity": severity,
        "source": "zabbix",
    }
    if payload.get("host_name"):
        labels["hostname"] = _text(payload["host_name"])
    if payload.get("host_ip"):
        labels["ip"] = _text(payload["host_ip"])
    if payload.get("trigger_id"):
        labels["trigger_id"] = _text(payload["trigger_id"])
    for name, item in _zabbix_tags(payload.get("event_tags")).items():
        labels.setdefault(name, item)
    identity = {
        "trigger": _text(payload.get("trigger_id") or payload["event_name"]),
        "host": host,
    }
    starts_at = parse_time(payload.get("event_time"), "event_time") or now
    ends_at = parse_time(payload.get("recovery_time"), "recovery_time")
    alert = AlertIn(
        fingerprint=labels_fingerprint(identity),
        status=status,
        labels=labels,
        annotations={
            "summary": _text(payload["event_name"]),
            "description": _text(payload.get("message", "")),
            "zabbix_event_id": _text(payload["event_id"]),
        },
        starts_at=starts_at,
        ends_at=(ends_at or now) if status == "resolved" else None,
        generator_url=_text(payload.get("url", ""))[:1000],
        severity=severity,
    )
    return ParsedBatch(alerts=[alert], status=status, meta={"event_id": payload["event_id"]})


N9E_SEVERITY = {1: "critical", 2: "warning", 3: "info"}


def _n9e_event(raw: Any, index: int, now: dt.datetime) -> AlertIn:
    where = f"events[{index}]"
    if not isinstance(raw, dict):
        raise PayloadError("must be an object", where)
    for name in ("rule_name", "hash"):
        if not raw.get(name):
            raise PayloadError("is required", f"{where}.{name}")
    labels: dict[str, str] = {}
    tags_map = raw.get("tags_map")
    if isinstance(tags_map, dict):
        labels.update(_string_map(tags_map, f"{where}.tags_map"))
    elif isinstance(raw.get("tags"), list):
        for tag in raw["tags"]:
            name, _sep, item = _text(tag).partition("=")
            if name:
                labels[name] = item
    labels["alertname"] = _text(raw["rule_name"])
    if raw.get("target_ident"):
        labels.setdefault("ident", _text(raw["target_ident"]))
        labels.setdefault("host", _text(raw["target_ident"]))
    raw_severity = raw.get("severity")
    severity = N9E_SEVERITY.get(raw_severity) if isinstance(raw_severity, int) else None
    severity = severity or severity_of(raw_severity)
    labels.setdefault("severity", severity)
    recovered = bool(raw.get("is_recovered"))
    annotations = _string_map(raw.get("annotations"), f"{where}.annotations")
    if raw.get("rule_note"):
        annotations.setdefault("description", _text(raw["rule_note"]))
    if raw.get("trigger_value") not in (None, ""):
        annotations.setdefault("value", _text(raw["trigger_value"]))
    starts_at = (
        parse_time(
            raw.get("first_trigger_time") or raw.get("trigger_time"), f"{where}.trigger_time"
        )
        or now
    )
    ends_at = (
        parse_time(raw.get("last_eval_time"), f"{where}.last_eval_time") if recovered else None
    )
    return AlertIn(
        fingerprint=_fingerprint(raw["hash"], labels),
        status="resolved" if recovered else "firing",
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=(ends_at or now) if recovered else None,
        generator_url=_text(raw.get("runbook_url", ""))[:1000],
        severity=severity,
    )


def parse_n9e(payload: Any, now: dt.datetime) -> ParsedBatch:
    """Nightingale (v6/v7) callback: one AlertCurEvent object, or a list of them."""
    events = payload if isinstance(payload, list) else [payload]
    if not events:
        raise PayloadError("no events")
    if len(events) > MAX_ALERTS:
        raise PayloadError(f"at most {MAX_ALERTS} events per request")
    alerts = [_n9e_event(raw, index, now) for index, raw in enumerate(events)]
    return ParsedBatch(alerts=alerts)


EVENTS_V2_SEVERITY = {"critical": "critical", "error": "high", "warning": "warning", "info": "info"}


def parse_events_v2(payload: Any, now: dt.datetime) -> ParsedBatch:
    """PagerDuty Events API v2: trigger / acknowledge / resolve with ``dedup_key``."""
    if not isinstance(payload, dict):
        raise PayloadError("the body must be a JSON object")
    action = payload.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        raise PayloadError('must be "trigger", "acknowledge" or "resolve"', "event_action")
    dedup_key = payload.get("dedup_key")
    if dedup_key is not None and (not isinstance(dedup_key, str) or len(dedup_key) > 255):
        raise PayloadError("must be a string of at most 255 characters", "dedup_key")
    if action != "trigger" and not dedup_key:
        raise PayloadError("is required to acknowledge or resolve", "dedup_key")
    dedup_key = dedup_key or uuid.uuid4().hex
    fingerprint = hashlib.sha256(f"events_v2:{dedup_key}".encode()).hexdigest()
    reply = {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
    if action == "acknowledge":
        return ParsedBatch(
            alerts=[],
            actions=[{"action": "acknowledge", "fingerprint": fingerprint}],
            reply=reply,
            reply_status=202,
            meta={"event_action": action},
        )
    body = payload.get("payload")
    labels: dict[str, str] = {"dedup_key": dedup_key}
    annotations: dict[str, str] = {}
    severity = "info"
    starts_at = now
    if action == "trigger":
        if not isinstance(body, dict):
            raise PayloadError("is required for a trigger", "payload")
        for name in ("summary", "source", "severity"):
            if not isinstance(body.get(name), str) or not body[name].strip():
                raise PayloadError("is required", f"payload.{name}")
        if body["severity"] not in EVENTS_V2_SEVERITY:
            raise PayloadError(
                'must be "critical", "error", "warning" or "info"', "payload.severity"
            )
        severity = EVENTS_V2_SEVERITY[body["severity"]]
        labels.update(
            {
                "alertname": _text(body.get("class") or body.get("component") or "event"),
                "instance": body["source"],
                "host": body["source"],
                "severity": severity,
            }
        )
        for name in ("component", "group", "class"):
            if body.get(name):
                labels[name] = _text(body[name])
        annotations["summary"] = body["summary"][:1024]
        details = body.get("custom_details")
        if details is not None:
            annotations["custom_details"] = _text(details)
        starts_at = parse_time(body.get("timestamp"), "payload.timestamp") or now
    links = payload.get("links")
    generator = ""
    if isinstance(links, list) and links and isinstance(links[0], dict):
        generator = _text(links[0].get("href", ""))
    generator = generator or _text(payload.get("client_url", ""))
    alert = AlertIn(
        fingerprint=fingerprint,
        status="firing" if action == "trigger" else "resolved",
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=now if action == "resolve" else None,
        generator_url=generator[:1000],
        severity=severity,
    )
    return ParsedBatch(alerts=[alert], reply=reply, reply_status=202, meta={"event_action": action})


PARSERS: dict[str, Callable[[Any, dt.datetime], ParsedBatch]] = {
    "alertmanager": parse_alertmanager,
    "grafana": parse_grafana,
    "zabbix": parse_zabbix,
    "n9e": parse_n9e,
    "events_v2": parse_events_v2,
}


def parse(kind: str, payload: Any, now: dt.datetime | None = None) -> ParsedBatch:
    return PARSERS[kind](payload, now or timezone.now())
