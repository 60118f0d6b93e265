"""Monitoring operations the UI and the API call: checks (create, change, delete, enable,
bulk-create from the CMDB) and probes (create, rotate, revoke).

Every write validates first (``validate_check``) and refuses with ``MonitoringError`` (a 400
with the reason per field); nothing is written on a refusal. A change to what a probe runs
bumps ``config_version``, so probes pick it up at their next assignment poll.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from opsassure.catalog.models import ServiceCalendar
from opsassure.cmdb.models import ConfigurationItem
from opsassure.core.errors import ServiceError
from opsassure.core.models import Customer
from opsassure.monitoring import tokens
from opsassure.monitoring.models import CheckKind, Monitor, Probe, Severity
from opsassure.monitoring.models.checks import MAX_INTERVAL_SECONDS


class MonitoringError(ServiceError):
    """A refused monitoring change: ``fields`` maps each field to its problems."""

    code = "invalid_check"


# The options each kind accepts in ``Monitor.settings`` (the probe's vocabulary).
KIND_SETTINGS: dict[str, frozenset[str]] = {
    CheckKind.HTTP: frozenset(
        {
            "method",
            "headers",
            "body",
            "expected_status",
            "keyword",
            "json_path",
            "json_expected",
            "max_response_ms",
            "follow_redirects",
            "max_redirects",
            "max_body_bytes",
            "verify_tls",
            "ca_file",
        }
    ),
    CheckKind.TCP: frozenset({"port", "max_response_ms"}),
    CheckKind.ICMP: frozenset({"count", "max_response_ms"}),
    CheckKind.TLS: frozenset(
        {"port", "server_name", "warn_days", "verify_chain", "check_hostname", "ca_file"}
    ),
    CheckKind.DNS: frozenset({"record_type", "expected", "nameservers", "port", "max_response_ms"}),
    CheckKind.NODE_EXPORTER: frozenset({"max_response_ms", "verify_tls"}),
}
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT", "CAA", "DS", "DNSKEY")
MAX_BODY_BYTES = 16 * 1024 * 1024
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_STATUS_ITEM = re.compile(r"^(?:[1-5]xx|\d{3}|\d{3}-\d{3})$")


@dataclass
class _Problems:
    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self.fields:
            first = next(iter(self.fields.values()))[0]
            raise MonitoringError(first, fields=self.fields)


def is_host(text: str) -> bool:
    """A DNS host name or an IPv4/IPv6 address (no port, no scheme)."""
    if not text or len(text) > 253:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        return True
    return all(_HOST_LABEL.match(label) for label in text.rstrip(".").split("."))


def _split_host_port(text: str) -> tuple[str, int | None] | None:
    """``host``, ``host:port`` or ``[v6]:port``; None when malformed."""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep:
            return None
        if not rest:
            return host, None
        if not rest.startswith(":") or not rest[1:].isdigit():
            return None
        return host, int(rest[1:])
    if text.count(":") == 1:
        host, _sep, port = text.partition(":")
        return (host, int(port)) if port.isdigit() else None
    return text, None


def _check_url(target: str, problems: _Problems) -> None:
    parts = urlsplit(target)
    if parts.scheme not in {"http", "https"}:
        problems.add("target", _("Give a URL starting with http:// or https://."))
        return
    try:
        port = parts.port
    except ValueError:
        problems.add("target", _("The URL's port is not a number between 1 and 65535."))
        return
    if not parts.hostname or not is_host(parts.hostname) or any(c.isspace() for c in target):
        problems.add("target", _("The URL has no valid host name."))
    elif port == 0:
        problems.add("target", _("The URL's port is not a number between 1 and 65535."))


def _check_port(value: Any, name: str, problems: _Problems) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        problems.add(name, _("A port is a number between 1 and 65535."))
        return None
    port = int(value)
    if not 1 <= port <= 65535:
        problems.add(name, _("A port is a number between 1 and 65535."))
        return None
    return port


def _check_number(
    value: Any, name: str, problems: _Problems, *, minimum: float, maximum: float
) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        problems.add(name, _("Give a number."))
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        problems.add(name, _("Give a number."))
        return None
    if not minimum <= number <= maximum:
        problems.add(
            name,
            _("Give a number between %(min)s and %(max)s.") % {"min": minimum, "max": maximum},
        )
        return None
    return number


def _check_bool(value: Any, name: str, problems: _Problems) -> None:
    if value is not None and not isinstance(value, bool):
        problems.add(name, _("Give true or false."))


def _check_status(value: Any, problems: _Problems) -> None:
    if value is None or value == "" or value == []:
        return
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | str):
            problems.add("settings.expected_status", _("Not a status code: %s.") % item)
            continue
        text = str(item).strip().lower()
        if not _STATUS_ITEM.match(text):
            problems.add("settings.expected_status", _("Not a status code: %s.") % item)
            continue
        if text.endswith("xx"):
            continue
        codes = [int(part) for part in text.split("-")]
        if any(not 100 <= code <= 599 for code in codes) or codes != sorted(codes):
            problems.add(
                "settings.expected_status",
                _("Status codes are between 100 and 599 (ranges low-high): %s.") % item,
            )


def _check_http_settings(options: dict[str, Any], problems: _Problems) -> None:
    method = str(options.get("method") or "GET").upper()
    if method not in HTTP_METHODS:
        problems.add("settings.method", _("Unknown HTTP method %s.") % method)
    elif "method" in options:
        options["method"] = method
    headers = options.get("headers")
    if headers is not None and (
        not isinstance(headers, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
    ):
        problems.add("settings.headers", _("Headers are a mapping of names to text values."))
    _check_status(options.get("expected_status"), problems)
    for name in ("keyword", "body"):
        if options.get(name) is not None and not isinstance(options[name], str):
            problems.add(f"settings.{name}", _("Give text."))
    json_path = options.get("json_path")
    if json_path not in (None, ""):
        if not isinstance(json_path, str):
            problems.add("settings.json_path", _("A JSON path is text, e.g. $.status."))
        else:
            from jsonpath_ng.ext.parser import parse

            try:
                parse(json_path)
            except Exception as error:  # the parser raises several exception types
                problems.add(
                    "settings.json_path",
                    _("The JSON path does not parse: %s") % str(error)[:200],
                )
    elif options.get("json_expected") is not None:
        problems.add("settings.json_expected", _("An expected JSON value needs a JSON path."))
    for name in ("follow_redirects", "verify_tls"):
        _check_bool(options.get(name), f"settings.{name}", problems)
    _check_number(
        options.get("max_redirects"), "settings.max_redirects", problems, minimum=0, maximum=30
    )
    _check_number(
        options.get("max_body_bytes"),
        "settings.max_body_bytes",
        problems,
        minimum=0,
        maximum=MAX_BODY_BYTES,
    )


def _check_dns_settings(options: dict[str, Any], problems: _Problems) -> None:
    record_type = str(options.get("record_type") or "A").upper()
    if record_type not in RECORD_TYPES:
        problems.add(
            "settings.record_type",
            _("Unknown record type %(type)s (one of %(known)s).")
            % {"type": record_type, "known": ", ".join(RECORD_TYPES)},
        )
    else:
        options["record_type"] = record_type
    expected = options.get("expected")
    if expected is not None and not (
        isinstance(expected, str)
        or (isinstance(expected, list) and all(isinstance(e, str) for e in expected))
    ):
        problems.add("settings.expected", _("Expected answers are a list of text values."))
    servers = options.get("nameservers")
    if servers is not None:
        items = [servers] if isinstance(servers, str) else servers
        if not isinstance(items, list):
            problems.add("settings.nameservers", _("Name servers are a list of IP addresses."))
        else:
            for server in items:
                try:
                    ipaddress.ip_address(str(server))
                except ValueError:
                    problems.add(
                        "settings.nameservers", _("Not an IP address: %s.") % str(server)[:60]
                    )
    _check_port(options.get("port"), "settings.port", problems)


def _check_target(kind: str, target: str, options: dict[str, Any], problems: _Problems) -> None:
    if not target:
        problems.add("target", _("Give a target."))
        return
    if any(c.isspace() for c in target):
        problems.add("target", _("The target must not contain spaces."))
        return
    if kind in (CheckKind.HTTP, CheckKind.NODE_EXPORTER):
        _check_url(target, problems)
        return
    if kind == CheckKind.DNS:
        if not is_host(target):
            problems.add("target", _("Give the DNS name to resolve, e.g. www.example.cn."))
        return
    if kind == CheckKind.TLS and "://" in target:
        _check_url(target, problems)
        return
    split = _split_host_port(target)
    if split is None or not is_host(split[0]):
        problems.add("target", _("Give a host name or an IP address."))
        return
    host_port = split[1]
    if kind == CheckKind.ICMP and host_port is not None:
        problems.add("target", _("A ping target has no port."))
    if host_port is not None and not 1 <= host_port <= 65535:
        problems.add("target", _("A port is a number between 1 and 65535."))
    if kind == CheckKind.TCP and host_port is None and not options.get("port"):
        problems.add("settings.port", _("A TCP check needs a port (host:port or the port field)."))


def validate_check(
    *,
    kind: str,
    target: str,
    settings: Mapping[str, Any] | None = None,
    interval_seconds: int = 60,
    timeout_seconds: float = 10.0,
    retries: int = 0,
    failure_threshold: int = 2,
    success_threshold: int = 1,
    labels: Mapping[str, Any] | None = None,
    severity: str = Severity.CRITICAL,
) -> dict[str, Any]:
    """Check a check definition; returns the normalised ``settings`` or raises
    ``MonitoringError`` whose ``fields`` name every problem (``settings.<option>`` for the
    kind's options)."""
    problems = _Problems()
    target = (target or "").strip()
    if kind not in CheckKind.values:
        problems.add(
            "kind",
            _("Unknown kind %(kind)s (one of %(known)s).")
            % {"kind": kind, "known": ", ".join(CheckKind.values)},
        )
        problems.raise_if_any()
    if settings is not None and not isinstance(settings, Mapping):
        problems.add("settings", _("Settings are a JSON object."))
        problems.raise_if_any()
    options = dict(settings or {})
    unknown = sorted(set(options) - KIND_SETTINGS[kind])
    if unknown:
        problems.add(
            "settings",
            _("Unknown settings for this kind: %(unknown)s (allowed: %(allowed)s).")
            % {"unknown": ", ".join(unknown), "allowed": ", ".join(sorted(KIND_SETTINGS[kind]))},
        )
    _check_target(kind, target, options, problems)
    minimum = django_settings.MONITORING_MIN_INTERVAL_SECONDS
    if isinstance(interval_seconds, bool) or not isinstance(interval_seconds, int):
        problems.add("interval_seconds", _("Give a whole number of seconds."))
    elif not minimum <= interval_seconds <= MAX_INTERVAL_SECONDS:
        problems.add(
            "interval_seconds",
            _("The interval must be between %(min)d and %(max)d seconds.")
            % {"min": minimum, "max": MAX_INTERVAL_SECONDS},
        )
    timeout = _check_number(
        timeout_seconds, "timeout_seconds", problems, minimum=0.1, maximum=MAX_INTERVAL_SECONDS
    )
    if (
        timeout is not None
        and isinstance(interval_seconds, int)
        and not isinstance(interval_seconds, bool)
        and timeout >= interval_seconds
    ):
        problems.add("timeout_seconds", _("The timeout must be shorter than the interval."))
    for name, value, low, high in (
        ("retries", retries, 0, 10),
        ("failure_threshold", failure_threshold, 1, 100),
        ("success_threshold", success_threshold, 1, 100),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.add(
                name,
                _("Give a whole number between %(min)d and %(max)d.") % {"min": low, "max": high},
            )
    if severity not in Severity.values:
        problems.add("severity", _("Unknown severity %s.") % severity)
    if labels is not None and (
        not isinstance(labels, Mapping)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items())
    ):
        problems.add("labels", _("Labels are a mapping of names to text values."))
    if "port" in options:
        _check_port(options["port"], "settings.port", problems)
    if "max_response_ms" in options:
        _check_number(
            options["max_response_ms"],
            "settings.max_response_ms",
            problems,
            minimum=1,
            maximum=MAX_INTERVAL_SECONDS * 1000,
        )
    if kind == CheckKind.HTTP:
        _check_http_settings(options, problems)
    elif kind == CheckKind.DNS:
        _check_dns_settings(options, problems)
    elif kind == CheckKind.TLS:
        _check_number(
            options.get("warn_days"), "settings.warn_days", problems, minimum=0, maximum=365
        )
        for name in ("verify_chain", "check_hostname"):
            _check_bool(options.get(name), f"settings.{name}", problems)
    elif kind == CheckKind.ICMP:
        _check_number(options.get("count"), "settings.count", problems, minimum=1, maximum=20)
    elif kind == CheckKind.NODE_EXPORTER:
        _check_bool(options.get("verify_tls"), "settings.verify_tls", problems)
    problems.raise_if_any()
    return options


def _check_relations(
    customer: Customer,
    ci: ConfigurationItem | None,
    probes: Sequence[Probe] | None,
    calendar: ServiceCalendar | None,
    problems: _Problems,
) -> None:
    if ci is not None and ci.customer_id != customer.pk:
        problems.add("ci", _("The configuration item belongs to another customer."))
    for probe in probes or ():
        if probe.customer_id not in (None, customer.pk):
            problems.add("probes", _("Probe %s runs another customer's checks only.") % probe.name)
        elif probe.revoked_at is not None:
            problems.add("probes", _("Probe %s is revoked.") % probe.name)
    if calendar is not None and calendar.customer_id not in (None, customer.pk):
        problems.add("calendar", _("The service calendar belongs to another customer."))


CHECK_FIELDS = (
    "name",
    "kind",
    "target",
    "settings",
    "interval_seconds",
    "timeout_seconds",
    "retries",
    "failure_threshold",
    "success_threshold",
    "severity",
    "labels",
    "enabled",
    "ci",
    "calendar",
)


def create_check(
    *,
    customer: Customer,
    name: str,
    kind: str,
    target: str,
    settings: Mapping[str, Any] | None = None,
    interval_seconds: int = 60,
    timeout_seconds: float = 10.0,
    retries: int = 0,
    failure_threshold: int = 2,
    success_threshold: int = 1,
    severity: str = Severity.CRITICAL,
    labels: Mapping[str, str] | None = None,
    enabled: bool = True,
    ci: ConfigurationItem | None = None,
    calendar: ServiceCalendar | None = None,
    probes: Sequence[Probe] | None = None,
) -> Monitor:
    """A new check for ``customer`` (validated; the CI, probes and calendar must be the
    customer's or provider-wide). Empty ``probes``: the local probe runs it."""
    problems = _Problems()
    name = (name or "").strip()
    if not name:
        problems.add("name", _("Give the check a name."))
    try:
        options = validate_check(
            kind=kind,
            target=target,
            settings=settings,
            interval_seconds=interval_seconds,
            timeout_seconds=timeout_seconds,
            retries=retries,
            failure_threshold=failure_threshold,
            success_threshold=success_threshold,
            labels=labels,
            severity=severity,
        )
    except MonitoringError as error:
        for key, messages in error.fields.items():
            for message in messages:
                problems.add(key, message)
        options = {}
    _check_relations(customer, ci, probes, calendar, problems)
    problems.raise_if_any()
    with transaction.atomic():
        monitor = Monitor.objects.create(
            customer=customer,
            name=name[:200],
            kind=kind,
            target=target.strip(),
            settings=options,
            interval_seconds=interval_seconds,
            timeout_seconds=float(timeout_seconds),
            retries=retries,
            failure_threshold=failure_threshold,
            success_threshold=success_threshold,
            severity=severity,
            labels=dict(labels or {}),
            enabled=enabled,
            ci=ci,
            calendar=calendar,
        )
        if probes:
            monitor.probes.set(probes)
    return monitor


def update_check(
    monitor: Monitor, *, probes: Sequence[Probe] | None = None, **changes: Any
) -> Monitor:
    """Change a check (validated as a whole); bumps ``config_version`` so probes reload it.
    The customer cannot change. ``probes=None`` leaves the locations as they are."""
    unknown = set(changes) - set(CHECK_FIELDS)
    if "customer" in changes:
        customer = changes.pop("customer")
        if customer is not None and getattr(customer, "pk", customer) != monitor.customer_id:
            raise MonitoringError(
                _("The customer cannot change."),
                fields={"customer": [_("The customer cannot change.")]},
            )
        unknown.discard("customer")
    if unknown:
        raise TypeError(f"unknown check fields: {sorted(unknown)}")
    merged = {name: getattr(monitor, name) for name in CHECK_FIELDS}
    merged.update(changes)
    problems = _Problems()
    if not str(merged["name"] or "").strip():
        problems.add("name", _("Give the check a name."))
    try:
        options = validate_check(
            kind=merged["kind"],
            target=merged["target"],
            settings=merged["settings"],
            interval_seconds=merged["interval_seconds"],
            timeout_seconds=merged["timeout_seconds"],
            retries=merged["retries"],
            failure_threshold=merged["failure_threshold"],
            success_threshold=merged["success_threshold"],
            labels=merged["labels"],
            severity=merged["severity"],
        )
    except MonitoringError as error:
        for key, messages in error.fields.items():
            for message in messages:
                problems.add(key, message)
        options = {}
    _check_relations(monitor.customer, merged["ci"], probes, merged["calendar"], problems)
    problems.raise_if_any()
    merged["settings"] = options
    merged["name"] = str(merged["name"]).strip()[:200]
    merged["target"] = str(merged["target"]).strip()
    with transaction.atomic():
        for name, value in merged.items():
            setattr(monitor, name, value)
        monitor.save()
        if probes is not None:
            monitor.probes.set(probes)
        Monitor.objects.filter(pk=monitor.pk).update(config_version=F("config_version") + 1)
    monitor.refresh_from_db(fields=["config_version", "updated_at"])
    return monitor


def set_enabled(monitor: Monitor, enabled: bool) -> bool:
    """Pause or resume a check; True if it changed."""
    with transaction.atomic():
        changed = Monitor.objects.filter(pk=monitor.pk).exclude(enabled=enabled)
        if not changed.exists():
            return False
        monitor.enabled = enabled
        monitor.save(update_fields=["enabled", "updated_at"])
        Monitor.objects.filter(pk=monitor.pk).update(config_version=F("config_version") + 1)
    monitor.refresh_from_db(fields=["config_version", "enabled"])
    return True


def delete_check(monitor: Monitor) -> None:
    """Delete a check with its results, rollups and series (cascade)."""
    with transaction.atomic():
        monitor.delete()


def ci_host(ci: ConfigurationItem) -> str:
    """The address a check of this CI targets: the primary IP, else the host name."""
    return str(ci.primary_ip or ci.hostname or "").strip()


DEFAULT_TARGETS: dict[str, str] = {
    CheckKind.HTTP: "http://{host}/",
    CheckKind.TCP: "{host}",
    CheckKind.ICMP: "{host}",
    CheckKind.TLS: "{host}",
    CheckKind.DNS: "{hostname}",
    CheckKind.NODE_EXPORTER: "http://{host}:9100/metrics",
}


@dataclass
class BulkResult:
    created: list[Monitor] = field(default_factory=list)
    skipped: list[tuple[ConfigurationItem, str]] = field(default_factory=list)


def bulk_create_checks(
    *,
    customer: Customer,
    cis: Iterable[ConfigurationItem],
    kind: str,
    template: Mapping[str, Any] | None = None,
) -> BulkResult:
    """One check of ``kind`` per CI (e.g. ping every server of a customer).

    ``template`` holds the check fields shared by all (settings, interval, thresholds…) and
    may give ``target`` with ``{host}`` (primary IP, else host name) and ``{hostname}``
    placeholders. A CI without an address, of another customer, or that already has a check
    of this kind on the same target is skipped with the reason. The template is validated
    once, before anything is written; all checks are created in one transaction."""
    spec = dict(template or {})
    pattern = str(spec.pop("target", "") or DEFAULT_TARGETS.get(kind, "{host}"))
    probes = spec.pop("probes", None)
    name_pattern = str(spec.pop("name", "") or "{ci} · {kind}")
    unknown = set(spec) - set(CHECK_FIELDS)
    if unknown:
        raise MonitoringError(
            _("Unknown template fields: %s.") % ", ".join(sorted(unknown)),
            fields={"template": [_("Unknown template fields: %s.") % ", ".join(sorted(unknown))]},
        )
    for fixed in ("kind", "ci", "target"):
        spec.pop(fixed, None)
    # Validate the shared part once, against an example target.
    example = pattern.replace("{host}", "192.0.2.1").replace("{hostname}", "example.cn")
    validate_check(
        kind=kind,
        target=example,
        **{k: v for k, v in spec.items() if k not in {"name", "enabled", "calendar"}},
    )
    result = BulkResult()
    items = list(cis)
    existing = set(
        Monitor.objects.filter(customer=customer, kind=kind, ci__in=items).values_list(
            "ci_id", "target"
        )
    )
    kind_label = str(CheckKind(kind).label)
    with transaction.atomic():
        for ci in items:
            if ci.customer_id != customer.pk:
                result.skipped.append((ci, _("belongs to another customer")))
                continue
            host = ci_host(ci)
            hostname = str(ci.hostname or "").strip()
            if (not host and "{host}" in pattern) or (not hostname and "{hostname}" in pattern):
                result.skipped.append((ci, _("has no IP address or host name")))
                continue
            target = pattern.replace("{host}", host).replace("{hostname}", hostname)
            if (ci.pk, target) in existing:
                result.skipped.append((ci, _("already has this check")))
                continue
            try:
                monitor = create_check(
                    customer=customer,
                    name=name_pattern.replace("{ci}", ci.name).replace("{kind}", kind_label),
                    kind=kind,
                    target=target,
                    ci=ci,
                    probes=probes,
                    **spec,
                )
            except MonitoringError as error:
                result.skipped.append((ci, error.message))
                continue
            existing.add((ci.pk, target))
            result.created.append(monitor)
    return result


# Probes --------------------------------------------------------------------------------------


def create_probe(
    *, name: str, zone: str = "", customer: Customer | None = None
) -> tuple[Probe, str]:
    """A remote probe and its token (shown once: only its hash is stored)."""
    name = (name or "").strip()
    problems = _Problems()
    if not name:
        problems.add("name", _("Give the probe a name."))
    elif len(name) > 100:
        problems.add("name", _("At most 100 characters."))
    elif Probe.objects.filter(name=name).exists():
        problems.add("name", _("A probe with this name exists."))
    if len(zone) > 100:
        problems.add("zone", _("At most 100 characters."))
    problems.raise_if_any()
    with transaction.atomic():
        return tokens.create_probe(name=name, zone=zone.strip(), customer=customer)


def rotate_probe(probe: Probe) -> str:
    """A new token for the probe (the old one stops working at once); returns it once."""
    if probe.is_local:
        raise MonitoringError(
            _("The local probe has no token."),
            fields={"probe": [_("The local probe has no token.")]},
        )
    with transaction.atomic():
        return tokens.rotate_probe_token(probe)


def revoke_probe(probe: Probe) -> bool:
    """Revoke the probe's token (its requests answer 401 from now on); False if already."""
    if probe.is_local:
        raise MonitoringError(
            _("The local probe cannot be revoked."),
            fields={"probe": [_("The local probe cannot be revoked.")]},
        )
    return tokens.revoke(probe)
