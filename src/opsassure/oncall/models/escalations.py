"""Escalation policies and their runs.

A run copies its policy as JSON (``policy_snapshot``) when it starts, so later edits of the
policy never change a running escalation. Every pending step of a run is an
``EscalationStep`` row with its due time and a fencing token: the sweep claims it with a
conditional UPDATE, so a step runs exactly once on any number of workers and nothing lives
only in the broker.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from opsassure.core.models.base import AuditedModel, ProviderOnlyQuerySet, TenantQuerySet
from opsassure.notify.models import Severity


class EscalationPolicy(AuditedModel):
    """Who is paged, in which order, how often, and how long to wait between levels."""

    team = models.ForeignKey(
        "core.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalation_policies",
        verbose_name=_("team"),
    )
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)

    objects = ProviderOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("oncall:policy-detail", args=[self.pk])


class EscalationPolicyStep(models.Model):
    """One level: notify someone, wait, repeat this level up to ``repeat`` more times."""

    class Target(models.TextChoices):
        USER = "user", _("A person")
        SCHEDULE = "schedule", _("Who is on call in a schedule")
        TEAM = "team", _("The whole team")

    policy = models.ForeignKey(
        EscalationPolicy, on_delete=models.CASCADE, related_name="steps", verbose_name=_("policy")
    )
    position = models.PositiveIntegerField(_("position"))
    target = models.CharField(_("notify"), max_length=16, choices=Target.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person"),
    )
    schedule = models.ForeignKey(
        "oncall.Schedule",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("schedule"),
    )
    team = models.ForeignKey(
        "core.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team"),
    )
    channels = models.JSONField(
        _("channels"),
        default=list,
        blank=True,
        help_text=_("Empty: each person's own notification rules decide."),
    )
    wait_minutes = models.PositiveIntegerField(
        _("wait (minutes)"), default=5, validators=[MaxValueValidator(7 * 24 * 60)]
    )
    repeat = models.PositiveIntegerField(
        _("repeat up to"), default=0, validators=[MaxValueValidator(20)]
    )

    objects = ProviderOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["policy_id", "position"]
        verbose_name = _("escalation policy step")
        verbose_name_plural = _("escalation policy steps")
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "position"], name="%(app_label)s_%(class)s_unique_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.policy} #{self.position + 1}"


class EscalationRun(models.Model):
    """One escalation of one thing (an alert group, a ticket): a copy of its policy and its
    state. At most one open (active or acknowledged) run per source."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")
        EXHAUSTED = "exhausted", _("Exhausted (nobody acknowledged)")

    OPEN_STATES = (State.ACTIVE, State.ACKNOWLEDGED)

    provider_rows_visible = True
    customer = models.ForeignKey(
        "core.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    policy = models.ForeignKey(
        EscalationPolicy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        verbose_name=_("policy"),
    )
    policy_snapshot = models.JSONField(_("policy as started"), default=dict)
    ticket = models.ForeignKey(
        "servicedesk.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="escalation_runs",
        verbose_name=_("ticket"),
    )
    source_type = models.CharField(_("source type"), max_length=64, blank=True)
    source_id = models.CharField(_("source id"), max_length=64, blank=True)
    title = models.CharField(_("title"), max_length=300)
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.HIGH
    )
    context = models.JSONField(_("context"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.ACTIVE, db_index=True
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_via = models.CharField(_("acknowledged via"), max_length=16, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_via = models.CharField(_("resolved via"), max_length=16, blank=True)
    stalled_at = models.DateTimeField(
        _("stalled since"),
        null=True,
        blank=True,
        help_text=_("Set by the auditor: active, unacknowledged and no step pending."),
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        constraints = [
            # start_escalation is idempotent per source through this, not a check-then-insert.
            models.UniqueConstraint(
                fields=["source_type", "source_id"],
                condition=Q(state__in=["active", "acknowledged"]) & ~Q(source_type=""),
                name="%(app_label)s_%(class)s_one_open_per_source",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("oncall:run-detail", args=[self.pk])

    @property
    def steps_snapshot(self) -> list[dict[str, object]]:
        steps = self.policy_snapshot.get("steps", [])
        return steps if isinstance(steps, list) else []


class EscalationStep(models.Model):
    """A step of a run, due at ``due_at``: position in the policy and repeat number.

    ``fence`` is bumped by every claim or cancellation; whoever changed the row from the
    fence they read owns it.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    tenant_field = "run__customer"
    provider_rows_visible = True
    run = models.ForeignKey(
        EscalationRun, on_delete=models.CASCADE, related_name="steps", verbose_name=_("escalation")
    )
    position = models.PositiveIntegerField(_("position"))
    repeat = models.PositiveIntegerField(_("repeat"))
    due_at = models.DateTimeField(_("due at"))
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    fence = models.PositiveBigIntegerField(_("fence"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    notified = models.JSONField(_("notified users"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["run_id", "due_at", "id"]
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        indexes = [models.Index(fields=["state", "due_at"], name="oncall_step_state_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "position", "repeat"],
                name="%(app_label)s_%(class)s_unique_run_position_repeat",
            )
        ]

    def __str__(self) -> str:
        return f"{self.run} #{self.position + 1}.{self.repeat}"
