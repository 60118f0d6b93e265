"""Inbound integrations and the raw batches they receive."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from opsassure.core.models import AuditedModel, TenantQuerySet


class IntegrationKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
    GRAFANA = "grafana", _("Grafana alerting")
    ZABBIX = "zabbix", _("Zabbix")
    N9E = "n9e", _("Nightingale (n9e)")
    EVENTS_V2 = "events_v2", _("Generic events API (PagerDuty Events v2 compatible)")
    # Internal: OpsAssure's own monitoring (checks, probes, threshold rules) raises alerts
    # through this kind. It has no parser, so its URL refuses external posts (404).
    MONITORING = "monitoring", _("OpsAssure monitoring")


class DefaultAction(models.TextChoices):
    INCIDENT = "incident", _("Open an incident")
    NOTIFY = "notify", _("Notify only")
    RECORD = "record", _("Record only")


def new_token() -> str:
    """The secret part of the ingest URL: 32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class Integration(AuditedModel):
    """A place alerts come in: a secret URL (plus an optional bearer token) per sender.

    The URL token is a random slug kept as is, because the integrations page must show the URL
    to paste into Alertmanager or Grafana (like a Slack webhook URL); the optional bearer token
    is only stored as its SHA-256 and shown once. ``customer`` empty = provider-wide: the
    customer then comes from the CI an alert is matched to.
    """

    provider_rows_visible = True
    audit_exclude: ClassVar[frozenset[str]] = frozenset(
        {"created_at", "updated_at", "last_received_at", "bearer_token_hash", "token"}
    )

    customer = models.ForeignKey(
        "core.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
        help_text=_("Empty: provider-wide; the customer comes from the matched CI."),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=IntegrationKind.choices)
    token = models.CharField(_("URL token"), max_length=64, unique=True, default=new_token)
    bearer_token_hash = models.CharField(
        _("bearer token (SHA-256)"), max_length=64, blank=True, editable=False
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    rate_limit_per_minute = models.PositiveIntegerField(
        _("rate limit (requests per minute)"),
        default=1200,
        help_text=_("0 = no limit. Requests over the limit get 429 with Retry-After."),
    )
    group_by = models.JSONField(
        _("group by labels"),
        default=list,
        blank=True,
        help_text=_(
            "Label names that form the group key. Empty: the sender's group key "
            "(Alertmanager), else alertname + instance/host."
        ),
    )
    default_action = models.CharField(
        _("when no routing rule matches"),
        max_length=16,
        choices=DefaultAction.choices,
        default=DefaultAction.INCIDENT,
    )
    flap_changes = models.PositiveSmallIntegerField(
        _("flapping: state changes"), default=6, help_text=_("0 = no flapping detection.")
    )
    flap_window_minutes = models.PositiveSmallIntegerField(
        _("flapping: within minutes"), default=30
    )
    last_received_at = models.DateTimeField(_("last received"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")
        indexes = [
            models.Index(fields=["customer", "name"], name="alerting_integ_cust_name_idx"),
            models.Index(fields=["name", "id"], name="alerting_integ_name_idx"),
        ]
        constraints = [
            # One internal monitoring integration per customer (monitoring.alerts creates it).
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(kind="monitoring"),
                name="alerting_integration_one_monitoring",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("alerting:integration-detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.enabled and self.revoked_at is None

    def ingest_path(self) -> str:
        return reverse("alerting-ingest", args=[self.token])

    def set_bearer_token(self, token: str) -> None:
        self.bearer_token_hash = hash_secret(token) if token else ""

    def bearer_matches(self, presented: str) -> bool:
        if not self.bearer_token_hash:
            return True
        return hmac.compare_digest(self.bearer_token_hash, hash_secret(presented))


class IngestBatch(models.Model):
    """One accepted request: committed before the 2xx, processed later by ``alert_process_batch``.

    The request commits this one row, with its alerts validated, fingerprinted and
    deduplicated in ``staged`` (see ``ingest``); the worker turns them into ``Alert`` rows
    (``expanded_at``), in the order the integration's batches arrived, then processes them.
    ``processed_at`` NULL = work pending; the sweep re-drives such batches (the broker message
    is only a hint). ``claimed_at``/``fence`` let one worker at a time process a batch.
    """

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="batches", verbose_name=_("integration")
    )
    received_at = models.DateTimeField(_("received at"), db_index=True)
    group_key = models.CharField(_("group key"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=16, blank=True)
    alert_count = models.PositiveIntegerField(_("alerts"), default=0)
    meta = models.JSONField(_("payload header"), default=dict, blank=True)
    actions = models.JSONField(
        _("group actions"),
        default=list,
        blank=True,
        help_text=_("Acknowledgements sent through the events API, applied by the worker."),
    )
    staged = models.TextField(
        _("staged alerts"),
        blank=True,
        help_text=_("The accepted alerts until they are written as alert rows (then empty)."),
    )
    expanded_at = models.DateTimeField(_("alerts written at"), null=True, blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    fence = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("ingest batch")
        verbose_name_plural = _("ingest batches")
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=Q(processed_at__isnull=True),
                name="alerting_batch_pending_idx",
            ),
            models.Index(
                fields=["integration", "id"],
                condition=Q(expanded_at__isnull=True),
                name="alerting_batch_staged_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"batch {self.pk}"


class RateWindow(models.Model):
    """A fixed one-minute window of requests per integration, shared by all web processes."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "window_start"],
                name="%(app_label)s_%(class)s_unique_integration_window",
            )
        ]

    def __str__(self) -> str:
        return f"{self.integration_id} {self.window_start:%H:%M} {self.count}"
