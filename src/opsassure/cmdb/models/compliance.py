"""Configuration audit (配置项审核): rules, runs, scores and failing CIs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from opsassure.cmdb.models.items import ConfigurationItem
from opsassure.core.models import AuditedModel, ProviderOnlyQuerySet, TenantQuerySet


class ConfigAuditRule(AuditedModel):
    """A check every CI in scope must pass.

    Built-in kinds are implemented in ``cmdb/compliance.py``; a ``custom`` rule is a filter
    (``{"field__lookup": value}`` over an allow-list of CI fields) that matches *failing* CIs.
    """

    class Kind(models.TextChoices):
        MISSING_REQUIRED = "missing_required", _("Required attributes missing")
        NOT_VERIFIED = "not_verified", _("Not verified recently")
        DUPLICATE_SERIAL = "duplicate_serial", _("Duplicate serial number")
        DUPLICATE_IP = "duplicate_ip", _("Duplicate IP address")
        DUPLICATE_HOSTNAME = "duplicate_hostname", _("Duplicate hostname")
        ORPHAN = "orphan", _("Orphan CI without relations")
        WARRANTY_EXPIRED_IN_USE = "warranty_expired_in_use", _("Warranty expired but in use")
        CUSTOM = "custom", _("Custom filter")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    params = models.JSONField(
        _("parameters"),
        default=dict,
        blank=True,
        help_text=_('e.g. {"days": 90} for "not verified"'),
    )
    failing_filter = models.JSONField(_("failing CIs filter"), default=dict, blank=True)
    ci_types = models.ManyToManyField(
        "cmdb.CIType",
        blank=True,
        related_name="+",
        verbose_name=_("CI types in scope (empty: all)"),
    )
    is_enabled = models.BooleanField(_("enabled"), default=True)

    objects = ProviderOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("configuration audit rule")
        verbose_name_plural = _("configuration audit rules")

    def __str__(self) -> str:
        return self.name


class ConfigAuditRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    started_at = models.DateTimeField(_("started"), db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checked = models.PositiveIntegerField(_("CIs checked"), default=0)
    failed = models.PositiveIntegerField(_("failures"), default=0)
    error = models.TextField(blank=True)

    objects = ProviderOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("configuration audit run")
        verbose_name_plural = _("configuration audit runs")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"


class ConfigAuditScore(models.Model):
    """Compliance of one rule for one (customer, CI type) in one run: passed / checked."""

    provider_rows_visible = True
    run = models.ForeignKey(ConfigAuditRun, on_delete=models.CASCADE, related_name="scores")
    rule = models.ForeignKey(ConfigAuditRule, on_delete=models.CASCADE, related_name="scores")
    customer = models.ForeignKey(
        "core.Customer", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    ci_type = models.ForeignKey("cmdb.CIType", on_delete=models.CASCADE, related_name="+")
    checked = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["run_id", "rule_id", "customer_id", "ci_type_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "rule", "customer", "ci_type"],
                name="%(app_label)s_%(class)s_unique_run_rule_scope",
            ),
        ]
        indexes = [
            models.Index(fields=["rule", "customer", "run"], name="cmdb_score_rule_customer_idx")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.customer_id}/{self.ci_type_id}: {self.failed}/{self.checked}"

    @property
    def compliance(self) -> float:
        return 100.0 if self.checked == 0 else 100.0 * (self.checked - self.failed) / self.checked


class ConfigAuditFinding(models.Model):
    tenant_field = "ci__customer"
    provider_rows_visible = True
    run = models.ForeignKey(ConfigAuditRun, on_delete=models.CASCADE, related_name="findings")
    rule = models.ForeignKey(ConfigAuditRule, on_delete=models.CASCADE, related_name="findings")
    ci = models.ForeignKey(ConfigurationItem, on_delete=models.CASCADE, related_name="findings")
    detail = models.CharField(max_length=300, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["run_id", "rule_id", "ci_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "rule", "ci"], name="%(app_label)s_%(class)s_unique_run_rule_ci"
            ),
        ]
        indexes = [models.Index(fields=["ci", "run"], name="cmdb_finding_ci_run_idx")]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.ci_id}"
