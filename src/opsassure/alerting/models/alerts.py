"""Alerts (one row per fingerprint and cycle), their groups and the timeline.

Cycles: an alert is identified by (integration, fingerprint). While it fires, repeats update
``last_seen`` and ``repeat_count`` on the same row. Once resolved, the row stays as the record
of that cycle; when the same fingerprint fires again, a **new row** with ``cycle`` + 1 opens
(and joins the then-open group). So every cycle keeps its own start, end and group, and at most
one row per fingerprint is firing (a partial unique constraint, which the ingest upsert uses).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from opsassure.core.models import TenantQuerySet


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    WARNING = "warning", _("Warning")
    INFO = "info", _("Info")


SEVERITY_RANK = {"critical": 0, "high": 1, "warning": 2, "info": 3}


class AlertStatus(models.TextChoices):
    FIRING = "firing", _("Firing")
    RESOLVED = "resolved", _("Resolved")


class GroupState(models.TextChoices):
    FIRING = "firing", _("Firing")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    SUPPRESSED = "suppressed", _("Suppressed")
    RESOLVED = "resolved", _("Resolved")


OPEN_GROUP_STATES = (GroupState.FIRING, GroupState.ACKNOWLEDGED, GroupState.SUPPRESSED)


class AlertGroup(models.Model):
    """Alerts grouped by key; at most one open group per (integration, key) — a constraint."""

    provider_rows_visible = True

    customer = models.ForeignKey(
        "core.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    integration = models.ForeignKey(
        "alerting.Integration",
        on_delete=models.CASCADE,
        related_name="groups",
        verbose_name=_("integration"),
    )
    group_key = models.TextField(_("group key"))
    key_hash = models.CharField(_("group key hash"), max_length=64)
    title = models.CharField(_("title"), max_length=300)
    state = models.CharField(
        _("state"), max_length=16, choices=GroupState.choices, default=GroupState.FIRING
    )
    is_open = models.BooleanField(_("open"), default=True)
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.WARNING
    )
    labels = models.JSONField(_("common labels"), default=dict, blank=True)
    ci = models.ForeignKey(
        "cmdb.ConfigurationItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("configuration item"),
    )
    service = models.ForeignKey(
        "catalog.Service",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service"),
    )
    owner_team = models.ForeignKey(
        "core.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner team"),
    )
    incident = models.ForeignKey(
        "servicedesk.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alert_groups",
        verbose_name=_("incident"),
    )
    escalation = models.ForeignKey(
        "oncall.EscalationRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("escalation"),
    )
    routing_rule = models.ForeignKey(
        "alerting.RoutingRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("routing rule"),
    )
    action = models.CharField(_("routing action"), max_length=16, blank=True)
    flapping = models.BooleanField(_("flapping"), default=False)
    firing_count = models.PositiveIntegerField(_("firing alerts"), default=0)
    alert_count = models.PositiveIntegerField(_("alerts"), default=0)
    started_at = models.DateTimeField(_("started at"))
    last_alert_at = models.DateTimeField(_("last alert"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-last_alert_at", "-id"]
        verbose_name = _("alert group")
        verbose_name_plural = _("alert groups")
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "key_hash"],
                condition=Q(is_open=True),
                name="%(app_label)s_%(class)s_unique_open_key",
            )
        ]
        indexes = [
            models.Index(fields=["state", "last_alert_at"], name="alerting_group_state_idx"),
            models.Index(
                fields=["customer", "state", "last_alert_at"], name="alerting_group_cust_state_idx"
            ),
            models.Index(fields=["last_alert_at", "id"], name="alerting_group_last_idx"),
            models.Index(fields=["incident"], name="alerting_group_incident_idx"),
            models.Index(fields=["severity", "last_alert_at"], name="alerting_group_sev_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("alerting:group-detail", args=[self.pk])


class Alert(models.Model):
    """One cycle of one alert (see the module docstring)."""

    provider_rows_visible = True

    # No single-column index on these foreign keys: the composite indexes below start with
    # each of them, and every index is written on each ingested alert (the hot path).
    integration = models.ForeignKey(
        "alerting.Integration",
        on_delete=models.CASCADE,
        related_name="alerts",
        verbose_name=_("integration"),
        db_index=False,
    )
    customer = models.ForeignKey(
        "core.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
        db_index=False,
    )
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    cycle = models.PositiveIntegerField(_("cycle"), default=1)
    status = models.CharField(_("status"), max_length=16, choices=AlertStatus.choices)
    # What the worker last handled; ``pending`` = status differs (the worker has work to do).
    processed_status = models.CharField(max_length=16, blank=True)
    pending = models.BooleanField(default=True)
    batch = models.ForeignKey(
        "alerting.IngestBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    alertname = models.CharField(_("alert name"), max_length=200, blank=True)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.WARNING
    )
    labels = models.JSONField(_("labels"), default=dict)
    annotations = models.JSONField(_("annotations"), default=dict, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    repeat_count = models.PositiveIntegerField(_("repeats"), default=0)
    generator_url = models.URLField(_("source link"), max_length=1000, blank=True)
    group = models.ForeignKey(
        AlertGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("group"),
        db_index=False,
    )
    ci = models.ForeignKey(
        "cmdb.ConfigurationItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("configuration item"),
        db_index=False,
    )
    suppressed = models.BooleanField(_("suppressed"), default=False)
    suppressed_by = models.JSONField(
        _("suppressed by"),
        default=dict,
        blank=True,
        help_text=_('e.g. {"kind": "silence", "id": 3, "name": "…"}'),
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "fingerprint"],
                condition=Q(status="firing"),
                name="%(app_label)s_%(class)s_unique_firing_fingerprint",
            )
        ]
        indexes = [
            models.Index(
                fields=["integration", "fingerprint", "cycle"], name="alerting_alert_fp_idx"
            ),
            models.Index(fields=["batch"], name="alerting_alert_batch_idx"),
            models.Index(
                fields=["last_seen"], condition=Q(pending=True), name="alerting_alert_pending_idx"
            ),
            models.Index(fields=["status", "last_seen"], name="alerting_alert_status_idx"),
            models.Index(
                fields=["customer", "status", "last_seen"], name="alerting_alert_cust_st_idx"
            ),
            models.Index(fields=["last_seen", "id"], name="alerting_alert_last_idx"),
            models.Index(fields=["group", "status"], name="alerting_alert_group_idx"),
            models.Index(fields=["ci", "status"], name="alerting_alert_ci_idx"),
        ]

    def __str__(self) -> str:
        return self.alertname or self.fingerprint


class AlertEvent(models.Model):
    """One timeline entry of a group (fired, resolved, suppressed, incident opened, paged…)."""

    provider_rows_visible = True

    class Kind(models.TextChoices):
        FIRED = "fired", _("Alert fired")
        RESOLVED = "resolved", _("Alert resolved")
        SUPPRESSED = "suppressed", _("Alert suppressed")
        UNSUPPRESSED = "unsuppressed", _("Suppression ended")
        GROUP_OPENED = "group_opened", _("Group opened")
        GROUP_RESOLVED = "group_resolved", _("Group resolved")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        FLAPPING = "flapping", _("Flapping detected")
        ROUTED = "routed", _("Routed")
        DROPPED = "dropped", _("Dropped by a routing rule")
        INCIDENT_OPENED = "incident_opened", _("Incident opened")
        INCIDENT_ATTACHED = "incident_attached", _("Attached to an incident")
        INCIDENT_RESOLVED = "incident_resolved", _("Incident resolved")
        PAGED = "paged", _("Paging started")
        NOTIFIED = "notified", _("Notification queued")
        ERROR = "error", _("Error")

    customer = models.ForeignKey(
        "core.Customer", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    group = models.ForeignKey(
        AlertGroup, on_delete=models.CASCADE, related_name="events", null=True, blank=True
    )
    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, related_name="events", null=True, blank=True
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.CharField(_("message"), max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("alert event")
        verbose_name_plural = _("alert events")
        indexes = [
            models.Index(fields=["group", "at"], name="alerting_event_group_idx"),
            models.Index(fields=["alert", "kind", "at"], name="alerting_event_alert_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"
