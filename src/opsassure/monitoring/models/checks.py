"""Checks (model ``Monitor``), their per-probe state, raw results and rollups."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from opsassure.core.models import TenantOwnedModel, TenantQuerySet
from opsassure.monitoring.models.common import Period, Severity
from opsassure.monitoring.models.probes import Probe

MIN_INTERVAL_SECONDS = 10
MAX_INTERVAL_SECONDS = 86_400


class CheckKind(models.TextChoices):
    HTTP = "http", _("HTTP(S)")
    TCP = "tcp", _("TCP port")
    ICMP = "icmp", _("ICMP ping")
    TLS = "tls", _("TLS certificate")
    DNS = "dns", _("DNS")
    NODE_EXPORTER = "node_exporter", _("Prometheus node_exporter")


class CheckState(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    UP = "up", _("Up")
    DEGRADED = "degraded", _("Degraded")
    DOWN = "down", _("Down")


class ResultStatus(models.IntegerChoices):
    """One execution's verdict. Degraded = it answered, but outside a threshold (slow response,
    certificate expiring soon)."""

    UP = 0, _("Up")
    DEGRADED = 1, _("Degraded")
    DOWN = 2, _("Down")


class Monitor(TenantOwnedModel):
    """A check: what to run, how often, where, and its live state.

    ``settings`` holds the kind's own options, validated by ``services.validate_check`` on every
    write (e.g. http: method, headers, expected_status, keyword, json_path, json_expected,
    max_response_ms, follow_redirects, max_body_bytes; dns: record_type, expected; tls:
    warn_days; tcp: port). ``probes`` empty = the local probe runs it.

    The live-state fields below ``config_version`` are written only by result processing.
    """

    audit_exclude: ClassVar[frozenset[str]] = frozenset(
        {
            "created_at",
            "updated_at",
            "state",
            "state_since",
            "last_result_at",
            "last_status",
            "last_response_ms",
            "last_message",
            "cert_expires_at",
        }
    )

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=CheckKind.choices)
    target = models.CharField(
        _("target"),
        max_length=2000,
        help_text=_("URL for HTTP and node_exporter; host name or IP for the others."),
    )
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    interval_seconds = models.PositiveIntegerField(_("interval (s)"), default=60)
    timeout_seconds = models.FloatField(_("timeout (s)"), default=10.0)
    retries = models.PositiveSmallIntegerField(
        _("retries"), default=0, help_text=_("Immediate retries before a run counts as failed.")
    )
    failure_threshold = models.PositiveSmallIntegerField(
        _("failure threshold"),
        default=2,
        help_text=_("Consecutive failed runs before the check is down."),
    )
    success_threshold = models.PositiveSmallIntegerField(
        _("success threshold"),
        default=1,
        help_text=_("Consecutive successful runs before a down check is up again."),
    )
    ci = models.ForeignKey(
        "cmdb.ConfigurationItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="monitors",
        verbose_name=_("configuration item"),
    )
    probes = models.ManyToManyField(
        Probe,
        blank=True,
        related_name="monitors",
        verbose_name=_("probe locations"),
        help_text=_("Empty: the local probe."),
    )
    calendar = models.ForeignKey(
        "catalog.ServiceCalendar",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service hours"),
        help_text=_("Availability is computed inside these hours only (e.g. 5×8)."),
    )
    severity = models.CharField(
        _("severity when down"), max_length=16, choices=Severity.choices, default=Severity.CRITICAL
    )
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    config_version = models.PositiveIntegerField(default=1, editable=False)

    state = models.CharField(
        _("state"), max_length=16, choices=CheckState.choices, default=CheckState.UNKNOWN
    )
    state_since = models.DateTimeField(_("state since"), null=True, blank=True)
    last_result_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(
        _("last result"), choices=ResultStatus.choices, null=True, blank=True
    )
    last_response_ms = models.FloatField(_("last response time (ms)"), null=True, blank=True)
    last_message = models.CharField(_("last message"), max_length=500, blank=True)
    cert_expires_at = models.DateTimeField(_("certificate expires"), null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("check")
        verbose_name_plural = _("checks")
        indexes = [
            models.Index(fields=["customer", "state"], name="mon_monitor_cust_state_idx"),
            models.Index(fields=["customer", "name"], name="mon_monitor_cust_name_idx"),
            models.Index(fields=["customer", "kind"], name="mon_monitor_cust_kind_idx"),
            models.Index(fields=["cert_expires_at"], name="mon_monitor_cert_idx"),
            models.Index(fields=["enabled", "last_result_at"], name="mon_monitor_stale_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class MonitorProbeState(models.Model):
    """Where each probe stands on a check: consecutive failures/successes and its own verdict.
    The check's state is derived from these rows (all locations down = down, some = degraded)."""

    tenant_field = "monitor__customer"

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="probe_states")
    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=CheckState.choices, default=CheckState.UNKNOWN)
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_successes = models.PositiveIntegerField(default=0)
    last_run_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["monitor", "probe"]
        verbose_name = _("check state per probe")
        verbose_name_plural = _("check states per probe")
        constraints = [
            models.UniqueConstraint(
                fields=["monitor", "probe"], name="monitoring_monitorprobestate_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id}@{self.probe_id}: {self.state}"


class CheckResult(models.Model):
    """One execution, kept raw for the retention period (default 7 days). Narrow on purpose:
    at 20,000 checks a minute this is the biggest table. ``message`` is empty when up."""

    tenant_field = "monitor__customer"

    id = models.BigAutoField(primary_key=True)
    monitor = models.ForeignKey(
        Monitor, on_delete=models.CASCADE, related_name="results", db_index=False
    )
    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="+", db_index=False)
    started_at = models.DateTimeField()
    status = models.PositiveSmallIntegerField(choices=ResultStatus.choices)
    response_ms = models.FloatField(null=True, blank=True)
    message = models.CharField(max_length=300, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("check result")
        verbose_name_plural = _("check results")
        constraints = [
            # Dedup: a result re-sent by a probe is stored once. Also the chart's index.
            models.UniqueConstraint(
                fields=["monitor", "started_at", "probe"], name="monitoring_result_unique"
            )
        ]
        indexes = [models.Index(fields=["started_at"], name="mon_result_started_idx")]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.started_at:%Y-%m-%d %H:%M:%S} {self.status}"


class CheckRollup(models.Model):
    """Hourly and daily aggregates, kept a year: charts over 30 days and availability reports.

    ``hours_total`` / ``hours_up`` count only results inside the check's service hours (all of
    them without a calendar), so 5×8 availability reads ``hours_up / hours_total``; degraded
    counts as available.
    """

    tenant_field = "monitor__customer"

    id = models.BigAutoField(primary_key=True)
    monitor = models.ForeignKey(
        Monitor, on_delete=models.CASCADE, related_name="rollups", db_index=False
    )
    period = models.CharField(max_length=1, choices=Period.choices)
    bucket = models.DateTimeField()
    total = models.PositiveIntegerField(default=0)
    up = models.PositiveIntegerField(default=0)
    degraded = models.PositiveIntegerField(default=0)
    down = models.PositiveIntegerField(default=0)
    hours_total = models.PositiveIntegerField(default=0)
    hours_up = models.PositiveIntegerField(default=0)
    response_count = models.PositiveIntegerField(default=0)
    response_sum_ms = models.FloatField(default=0)
    response_max_ms = models.FloatField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["monitor", "period", "bucket"]
        verbose_name = _("check rollup")
        verbose_name_plural = _("check rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["monitor", "period", "bucket"], name="monitoring_checkrollup_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.period} {self.bucket:%Y-%m-%d %H:%M}"
