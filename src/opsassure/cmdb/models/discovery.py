"""Discovery reconciliation: observed facts vs. recorded attributes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from opsassure.cmdb.models.items import ConfigurationItem
from opsassure.core.models import TenantQuerySet


class Discovery(models.Model):
    """One report of facts observed about a CI (agent, probe, import, scanner)."""

    provider_rows_visible = True
    received_at = models.DateTimeField(_("received"), db_index=True)
    source = models.CharField(_("source"), max_length=50)
    customer = models.ForeignKey(
        "core.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    ci = models.ForeignKey(
        ConfigurationItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="discoveries",
        verbose_name=_("CI"),
    )
    facts = models.JSONField(_("facts"), default=dict)
    matched_by = models.CharField(_("matched by"), max_length=30, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("discovery")
        verbose_name_plural = _("discoveries")
        indexes = [
            # The lists: a customer's observations (matched or not) and a CI's, newest first.
            models.Index(fields=["customer", "received_at"], name="cmdb_disc_customer_recv_idx"),
            models.Index(fields=["ci", "received_at"], name="cmdb_disc_ci_recv_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.received_at:%Y-%m-%d %H:%M}"


class Discrepancy(models.Model):
    """A recorded attribute that differs from what was observed; a person decides."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted (CI updated)")
        REJECTED = "rejected", _("Rejected")

    tenant_field = "ci__customer"
    provider_rows_visible = True
    discovery = models.ForeignKey(Discovery, on_delete=models.CASCADE, related_name="discrepancies")
    ci = models.ForeignKey(
        ConfigurationItem,
        on_delete=models.CASCADE,
        related_name="discrepancies",
        verbose_name=_("CI"),
    )
    field = models.CharField(_("field"), max_length=100)
    recorded_value = models.JSONField(_("recorded"), null=True, blank=True)
    observed_value = models.JSONField(_("observed"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("discrepancy")
        verbose_name_plural = _("discrepancies")
        constraints = [
            # At most one open discrepancy per CI field: a newer observation replaces it.
            models.UniqueConstraint(
                fields=["ci", "field"],
                condition=models.Q(status="open"),
                name="%(app_label)s_%(class)s_one_open_per_field",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ci_id}.{self.field}"
