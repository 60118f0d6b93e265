"""Heartbeats written by background processes, read by /readyz and /metrics."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """One row per kind of process ("worker", "scheduler"); updated in place."""

    kind = models.CharField(_("kind"), max_length=32, unique=True)
    seen_at = models.DateTimeField(_("last seen"))
    hostname = models.CharField(_("host"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.kind}@{self.hostname}"


class Lease(models.Model):
    """A time-limited claim on a singleton role (e.g. "the scheduler"), renewed by its holder.

    Several processes may be started for the role; the one holding an unexpired lease acts,
    the others wait. Claimed with a conditional UPDATE whose row count says who won.
    """

    name = models.CharField(_("name"), max_length=64, unique=True)
    holder = models.CharField(_("holder"), max_length=255)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("lease")
        verbose_name_plural = _("leases")

    def __str__(self) -> str:
        return f"{self.name} → {self.holder}"
