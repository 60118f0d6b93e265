"""Probes: the processes that run checks, one or more per network zone."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from opsassure.core.models import AuditedModel, TenantQuerySet

PROBE_TOKEN_PREFIX = "opsp_"


class Probe(AuditedModel):
    """A check runner. ``is_local`` marks the probe that ``opsassure run`` starts (at most one).

    A remote probe authenticates with ``opsp_<key_id>_<secret>``; only the SHA-256 of the
    secret is stored. ``customer`` empty = a provider probe that may run any customer's checks
    (most probes); a customer probe (inside the customer's network) runs only that customer's.
    """

    provider_rows_visible = True
    audit_exclude: ClassVar[frozenset[str]] = frozenset(
        {"created_at", "updated_at", "secret_hash", "last_heartbeat_at", "heartbeat"}
    )

    customer = models.ForeignKey(
        "core.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    name = models.CharField(_("name"), max_length=100, unique=True)
    zone = models.CharField(
        _("network zone"),
        max_length=100,
        blank=True,
        help_text=_("Where the probe runs, e.g. 'Shanghai IDC' or 'customer LAN'."),
    )
    is_local = models.BooleanField(_("local probe"), default=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    key_id = models.CharField(_("key id"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    heartbeat = models.JSONField(
        _("heartbeat"),
        default=dict,
        blank=True,
        help_text=_("What the probe last reported: version, checks, lag, buffered results."),
    )
    heartbeat_timeout_seconds = models.PositiveIntegerField(_("heartbeat timeout (s)"), default=180)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("probe")
        verbose_name_plural = _("probes")
        constraints = [
            models.UniqueConstraint(
                fields=["is_local"],
                condition=Q(is_local=True),
                name="monitoring_probe_one_local",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ResultBatch(models.Model):
    """A batch of results a probe pushed, by the probe's own batch id: a batch sent twice (the
    probe retries after a lost answer) is acknowledged again and stored once."""

    tenant_field = "probe__customer"
    provider_rows_visible = True

    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="batches")
    batch_id = models.UUIDField()
    received_at = models.DateTimeField(db_index=True)
    result_count = models.PositiveIntegerField(default=0)
    accepted_count = models.PositiveIntegerField(default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("result batch")
        verbose_name_plural = _("result batches")
        constraints = [
            models.UniqueConstraint(
                fields=["probe", "batch_id"], name="monitoring_resultbatch_unique_probe_batch"
            )
        ]

    def __str__(self) -> str:
        return str(self.batch_id)


class RollupBacklog(models.Model):
    """A span of raw rows that arrived after the periodic rollup stopped looking at it.

    ``rollup_recent`` redoes only the last few hours; a probe or agent that spooled results
    through a longer outage delivers older rows. Storing them writes one row here in the same
    transaction, and the next rollup pass recomputes the span and deletes the row (so the
    work survives restarts and is never lost in a broker). Internal: no API, no tenant.
    """

    start = models.DateTimeField()
    end = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("rollup backlog")
        verbose_name_plural = _("rollup backlog")

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} – {self.end:%Y-%m-%d %H:%M}"
