"""Routing rules, silences, maintenance windows and inhibition rules."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from opsassure.core.models import AuditedModel, TenantQuerySet

MATCHERS_HELP = _(
    'Alertmanager-style label matchers, one per entry: name="value", name!="value", '
    'name=~"regex", name!~"regex".'
)


class RoutingAction(models.TextChoices):
    INCIDENT = "incident", _("Open an incident")
    ATTACH = "attach", _("Attach to an open incident of the same CI")
    NOTIFY = "notify", _("Notify only")
    DROP = "drop", _("Drop (recorded)")


def default_priority_map() -> dict[str, int]:
    return {"critical": 1, "high": 2, "warning": 3, "info": 4}


class RoutingRule(AuditedModel):
    """Ordered rules (lowest ``position`` first; the first match wins).

    ``customer`` empty = a provider rule for every customer; ``integration`` empty = for every
    integration. Matching: all label matchers, the severities (if any) and the CI (if set).
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
    integration = models.ForeignKey(
        "alerting.Integration",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="routing_rules",
        verbose_name=_("integration"),
    )
    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(_("order"), default=100)
    enabled = models.BooleanField(_("enabled"), default=True)
    matchers = models.JSONField(
        _("label matchers"), default=list, blank=True, help_text=MATCHERS_HELP
    )
    severities = models.JSONField(
        _("severities"), default=list, blank=True, help_text=_("Empty: any severity.")
    )
    ci = models.ForeignKey(
        "cmdb.ConfigurationItem",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("configuration item"),
    )
    action = models.CharField(
        _("action"), max_length=16, choices=RoutingAction.choices, default=RoutingAction.INCIDENT
    )
    priority_map = models.JSONField(
        _("priority by severity"),
        default=default_priority_map,
        blank=True,
        help_text=_('e.g. {"critical": 1, "high": 2, "warning": 3, "info": 4}'),
    )
    auto_resolve = models.BooleanField(
        _("resolve the incident when all alerts resolve"), default=True
    )
    team = models.ForeignKey(
        "core.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assign incidents to team"),
        help_text=_("Empty: the owner team of the matched CI, if it serves the customer."),
    )
    destination = models.ForeignKey(
        "notify.Destination",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("notify destination"),
        help_text=_("A bot, webhook or mailing list told about new groups (all actions but drop)."),
    )
    escalation_policy = models.ForeignKey(
        "oncall.EscalationPolicy",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("page with escalation policy"),
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        indexes = [
            models.Index(fields=["enabled", "position", "id"], name="alerting_route_order_idx"),
            models.Index(fields=["customer", "position"], name="alerting_route_cust_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("alerting:routingrule-edit", args=[self.pk])


class Silence(AuditedModel):
    """A one-off silence: matchers and/or CIs, from ``starts_at`` to ``ends_at``."""

    provider_rows_visible = True

    customer = models.ForeignKey(
        "core.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    matchers = models.JSONField(
        _("label matchers"), default=list, blank=True, help_text=MATCHERS_HELP
    )
    cis = models.ManyToManyField(
        "cmdb.ConfigurationItem",
        blank=True,
        related_name="+",
        verbose_name=_("configuration items"),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    comment = models.CharField(_("comment"), max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        editable=False,
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("silence")
        verbose_name_plural = _("silences")
        indexes = [
            models.Index(fields=["ends_at", "starts_at"], name="alerting_silence_window_idx"),
            models.Index(fields=["customer", "starts_at"], name="alerting_silence_cust_idx"),
            models.Index(fields=["starts_at", "id"], name="alerting_silence_start_idx"),
        ]

    def __str__(self) -> str:
        return self.comment


class Recurrence(models.TextChoices):
    NONE = "none", _("One-off")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


class MaintenanceWindow(AuditedModel):
    """Planned work: alerts of the CIs (and their dependents, if set) or matchers are
    suppressed while the window is active.

    One-off: ``starts_at`` … ``ends_at``. Recurring (daily/weekly): from ``starts_at`` on, each
    (chosen weekday's) occurrence starts at ``starts_at``'s local wall time in ``time_zone`` and
    lasts ``ends_at - starts_at``; ``repeat_until`` (a date) ends the series.
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
    matchers = models.JSONField(
        _("label matchers"), default=list, blank=True, help_text=MATCHERS_HELP
    )
    cis = models.ManyToManyField(
        "cmdb.ConfigurationItem",
        blank=True,
        related_name="+",
        verbose_name=_("configuration items"),
    )
    include_dependents = models.BooleanField(
        _("also suppress dependent CIs"),
        default=True,
        help_text=_("CIs affected by the CIs in maintenance (CMDB impact relations)."),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    recurrence = models.CharField(
        _("recurrence"), max_length=8, choices=Recurrence.choices, default=Recurrence.NONE
    )
    weekdays = models.JSONField(
        _("weekdays"), default=list, blank=True, help_text=_("0 = Monday … 6 = Sunday (weekly).")
    )
    repeat_until = models.DateField(_("repeat until"), null=True, blank=True)
    source_type = models.CharField(_("source type"), max_length=64, blank=True)
    source_id = models.CharField(_("source id"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        editable=False,
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        indexes = [
            models.Index(fields=["recurrence", "ends_at"], name="alerting_maint_window_idx"),
            models.Index(fields=["customer", "starts_at"], name="alerting_maint_cust_idx"),
            models.Index(fields=["starts_at", "id"], name="alerting_maint_start_idx"),
            models.Index(fields=["source_type", "source_id"], name="alerting_maint_source_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class InhibitionRule(AuditedModel):
    """While an alert matching ``source_matchers`` fires, alerts matching ``target_matchers``
    with the same values of the ``equal`` labels are suppressed (Alertmanager semantics)."""

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
    source_matchers = models.JSONField(_("source matchers"), default=list, help_text=MATCHERS_HELP)
    target_matchers = models.JSONField(_("target matchers"), default=list, help_text=MATCHERS_HELP)
    equal = models.JSONField(_("equal labels"), default=list, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("inhibition rule")
        verbose_name_plural = _("inhibition rules")
        indexes = [models.Index(fields=["customer", "name"], name="alerting_inhibit_cust_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("alerting:inhibitionrule-edit", args=[self.pk])
