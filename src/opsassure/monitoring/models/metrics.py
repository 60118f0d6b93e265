"""Host metrics (agent pushes and node_exporter scrapes) and threshold rules over them."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from opsassure.core.models import AuditedModel, TenantOwnedModel, TenantQuerySet
from opsassure.monitoring.models.checks import Monitor
from opsassure.monitoring.models.common import Period, Severity

AGENT_TOKEN_PREFIX = "opsa_"


class AgentToken(TenantOwnedModel):
    """Enrols agents for one customer: ``opsa_<key_id>_<secret>``, only the hash is stored.
    One token may serve many hosts (put it in the fleet's config management)."""

    audit_exclude: ClassVar[frozenset[str]] = frozenset(
        {"created_at", "updated_at", "secret_hash", "last_used_at"}
    )

    name = models.CharField(_("name"), max_length=100)
    key_id = models.CharField(_("key id"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["customer", "name", "id"]
        verbose_name = _("agent token")
        verbose_name_plural = _("agent tokens")

    def __str__(self) -> str:
        return self.name


class Agent(TenantOwnedModel):
    """A host that runs ``opsassure agent``; matched to its CI by hostname / IP on each push."""

    audit_exclude: ClassVar[frozenset[str]] = frozenset(
        {"created_at", "updated_at", "last_seen_at", "facts", "addresses", "version"}
    )

    token = models.ForeignKey(
        AgentToken, on_delete=models.PROTECT, related_name="agents", verbose_name=_("token")
    )
    hostname = models.CharField(_("hostname"), max_length=253)
    addresses = models.JSONField(_("addresses"), default=list, blank=True)
    ci = models.ForeignKey(
        "cmdb.ConfigurationItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="agents",
        verbose_name=_("configuration item"),
    )
    version = models.CharField(_("agent version"), max_length=32, blank=True)
    interval_seconds = models.PositiveIntegerField(_("interval (s)"), default=30)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    facts = models.JSONField(_("facts"), default=dict, blank=True)

    class Meta:
        ordering = ["customer", "hostname", "id"]
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "hostname"], name="monitoring_agent_unique_customer_host"
            )
        ]

    def __str__(self) -> str:
        return self.hostname


class MetricSeries(models.Model):
    """One metric of one source: ``name`` (e.g. ``cpu_percent``, ``disk_used_percent``) and a
    ``dimension`` (the mount point, the interface; empty for host-wide metrics).

    ``key`` is the identity (``agent:<id>:<name>:<dimension>`` or ``monitor:<id>:…``), unique,
    so concurrent pushes cannot create two series.
    """

    tenant_field = "customer"

    customer = models.ForeignKey(
        "core.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    ci = models.ForeignKey(
        "cmdb.ConfigurationItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="metric_series",
        verbose_name=_("configuration item"),
    )
    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, null=True, blank=True, related_name="series"
    )
    monitor = models.ForeignKey(
        Monitor, on_delete=models.CASCADE, null=True, blank=True, related_name="series"
    )
    key = models.CharField(max_length=400, unique=True)
    name = models.CharField(_("metric"), max_length=64)
    dimension = models.CharField(_("dimension"), max_length=200, blank=True)
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    last_value = models.FloatField(_("last value"), null=True, blank=True)
    last_at = models.DateTimeField(_("last sample"), null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name", "dimension", "id"]
        verbose_name = _("metric series")
        verbose_name_plural = _("metric series")
        indexes = [
            models.Index(fields=["ci", "name"], name="mon_series_ci_name_idx"),
            models.Index(fields=["customer", "name"], name="mon_series_cust_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name}{{{self.dimension}}}" if self.dimension else self.name


class Sample(models.Model):
    """A raw value, kept for the retention period. (series, ts) is unique: a re-sent push is
    stored once."""

    tenant_field = "series__customer"

    id = models.BigAutoField(primary_key=True)
    series = models.ForeignKey(
        MetricSeries, on_delete=models.CASCADE, related_name="samples", db_index=False
    )
    ts = models.DateTimeField()
    value = models.FloatField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["series", "ts"]
        verbose_name = _("sample")
        verbose_name_plural = _("samples")
        constraints = [
            models.UniqueConstraint(fields=["series", "ts"], name="monitoring_sample_unique")
        ]
        indexes = [models.Index(fields=["ts"], name="mon_sample_ts_idx")]

    def __str__(self) -> str:
        return f"{self.series_id} {self.ts:%Y-%m-%d %H:%M:%S} {self.value}"


class SampleRollup(models.Model):
    """Hourly / daily count, sum, min and max of a series, kept a year (charts, baselines)."""

    tenant_field = "series__customer"

    id = models.BigAutoField(primary_key=True)
    series = models.ForeignKey(
        MetricSeries, on_delete=models.CASCADE, related_name="rollups", db_index=False
    )
    period = models.CharField(max_length=1, choices=Period.choices)
    bucket = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    total = models.FloatField(default=0)
    minimum = models.FloatField(null=True, blank=True)
    maximum = models.FloatField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["series", "period", "bucket"]
        verbose_name = _("sample rollup")
        verbose_name_plural = _("sample rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["series", "period", "bucket"], name="monitoring_samplerollup_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.series_id} {self.period} {self.bucket:%Y-%m-%d %H:%M}"


class Operator(models.TextChoices):
    GT = ">", ">"
    GE = ">=", "≥"
    LT = "<", "<"
    LE = "<=", "≤"
    EQ = "==", "="
    NE = "!=", "≠"


class ThresholdRule(AuditedModel):
    """ "``metric`` ``operator`` ``threshold`` for ``for_seconds``" over the series in scope.

    Scope: the rule's customer (empty = every customer), narrowed by a CI, a CI type or a tag
    when set. ``metric`` is a series name (``cpu_percent``…) or a check metric
    (``check_response_ms``, ``check_down``). Recovery hysteresis: a firing rule clears only
    when the value passes ``recovery_threshold`` (default: the threshold itself).
    """

    provider_rows_visible = True

    customer = models.ForeignKey(
        "core.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    name = models.CharField(_("name"), max_length=200)
    enabled = models.BooleanField(_("enabled"), default=True)
    metric = models.CharField(_("metric"), max_length=64)
    dimension = models.CharField(
        _("dimension"), max_length=200, blank=True, help_text=_("Empty: every dimension.")
    )
    operator = models.CharField(_("operator"), max_length=2, choices=Operator.choices)
    threshold = models.FloatField(_("threshold"))
    for_seconds = models.PositiveIntegerField(_("for (s)"), default=300)
    recovery_threshold = models.FloatField(_("recovery threshold"), null=True, blank=True)
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.WARNING
    )
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    ci = models.ForeignKey(
        "cmdb.ConfigurationItem",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("configuration item"),
    )
    ci_type = models.ForeignKey(
        "cmdb.CIType",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("CI type"),
    )
    tag = models.ForeignKey(
        "cmdb.Tag",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tag"),
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("threshold rule")
        verbose_name_plural = _("threshold rules")
        indexes = [models.Index(fields=["enabled", "metric"], name="mon_rule_enabled_metric_idx")]

    def __str__(self) -> str:
        return self.name


class RuleStateValue(models.TextChoices):
    OK = "ok", _("OK")
    PENDING = "pending", _("Pending")
    FIRING = "firing", _("Firing")


class RuleState(models.Model):
    """Where a rule stands for one series: pending since when, firing since when."""

    tenant_field = "series__customer"

    rule = models.ForeignKey(ThresholdRule, on_delete=models.CASCADE, related_name="states")
    series = models.ForeignKey(MetricSeries, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(
        max_length=8, choices=RuleStateValue.choices, default=RuleStateValue.OK
    )
    since = models.DateTimeField(null=True, blank=True)
    last_value = models.FloatField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["rule", "series"]
        verbose_name = _("rule state")
        verbose_name_plural = _("rule states")
        constraints = [
            models.UniqueConstraint(fields=["rule", "series"], name="monitoring_rulestate_unique")
        ]
        indexes = [models.Index(fields=["state"], name="mon_rulestate_state_idx")]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.series_id}: {self.state}"
