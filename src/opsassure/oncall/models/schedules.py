"""On-call schedules: layers of rotations, overrides, and the duty handover log (交接班).

Shifts are never stored: ``oncall.rotation`` computes them from the layer's definition, so
editing a rotation changes the future without a migration of rows. Schedules are provider-
internal (like teams): provider staff see them, customer users never do.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from opsassure.core.models.base import AuditedModel, ProviderOnlyQuerySet, TimeStampedModel
from opsassure.core.models.users import validate_time_zone


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class Schedule(AuditedModel):
    """A team's on-call schedule: layers of rotations plus overrides, in one time zone."""

    team = models.ForeignKey(
        "core.Team",
        on_delete=models.PROTECT,
        related_name="oncall_schedules",
        verbose_name=_("team"),
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    calendar = models.ForeignKey(
        "catalog.ServiceCalendar",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("holiday calendar"),
        help_text=_(
            "Optional: a shift that starts on a holiday or closed day of this calendar goes "
            "to the next participant."
        ),
    )
    feed_token = models.CharField(
        _("calendar feed token"), max_length=64, unique=True, default=new_feed_token, editable=False
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = ProviderOnlyQuerySet.as_manager()

    audit_exclude = frozenset({"created_at", "updated_at", "feed_token"})

    class Meta:
        ordering = ["team__code", "name", "id"]
        verbose_name = _("on-call schedule")
        verbose_name_plural = _("on-call schedules")
        constraints = [
            models.UniqueConstraint(
                fields=["team", "name"], name="%(app_label)s_%(class)s_unique_team_name"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("oncall:schedule-detail", args=[self.pk])


class Layer(AuditedModel):
    """A rotation: participants take turns in shifts of a fixed length from ``start_date``.

    Daily and weekly shifts (and custom lengths in days) hand off at ``handoff_time`` local
    wall time, so a daylight-saving change shortens or lengthens that one shift. Custom
    lengths in hours count real elapsed hours from the first hand-off.
    Layers earlier in the schedule's list (lower ``order``) win over later ones.
    """

    class Kind(models.TextChoices):
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        CUSTOM = "custom", _("Custom length")

    class Unit(models.TextChoices):
        HOURS = "hours", _("hours")
        DAYS = "days", _("days")

    schedule = models.ForeignKey(
        Schedule, on_delete=models.CASCADE, related_name="layers", verbose_name=_("schedule")
    )
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveIntegerField(
        _("order"), default=0, help_text=_("Lower numbers are higher in the list and win.")
    )
    kind = models.CharField(_("rotation"), max_length=8, choices=Kind.choices, default=Kind.WEEKLY)
    length = models.PositiveIntegerField(
        _("shift length"), default=1, validators=[MinValueValidator(1)]
    )
    length_unit = models.CharField(
        _("length unit"), max_length=8, choices=Unit.choices, default=Unit.DAYS
    )
    start_date = models.DateField(_("first shift on"))
    handoff_time = models.TimeField(_("hand-off time"))
    end_date = models.DateField(
        _("last hand-off on"), null=True, blank=True, help_text=_("Empty: the rotation goes on.")
    )

    objects = ProviderOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["schedule_id", "order", "id"]
        verbose_name = _("rotation layer")
        verbose_name_plural = _("rotation layers")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == self.Kind.CUSTOM and self.length < 1:
            raise ValidationError({"length": _("A shift lasts at least one unit.")})
        if self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The rotation ends before it starts.")})

    @property
    def participants(self) -> list[Any]:
        """The users in turn order."""
        turns = LayerParticipant.objects.filter(layer=self).select_related("user")
        return [turn.user for turn in turns.order_by("position")]

    @property
    def shift_days(self) -> int | None:
        """Shift length in local days, or None for a custom length in hours."""
        if self.kind == self.Kind.DAILY:
            return 1
        if self.kind == self.Kind.WEEKLY:
            return 7
        return self.length if self.length_unit == self.Unit.DAYS else None


class LayerParticipant(models.Model):
    """One place in a layer's order of turns (a person may appear more than once)."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="turns")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(_("position"))

    objects = ProviderOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["layer_id", "position"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(
                fields=["layer", "position"], name="%(app_label)s_%(class)s_unique_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.layer} #{self.position + 1}: {self.user}"


class Override(AuditedModel):
    """``user`` is on call instead of whoever the layers say, from ``start`` to ``end``."""

    class Kind(models.TextChoices):
        COVER = "cover", _("Cover")
        SWAP = "swap", _("Swap")

    schedule = models.ForeignKey(
        Schedule, on_delete=models.CASCADE, related_name="overrides", verbose_name=_("schedule")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("on call instead"),
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.COVER)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    objects = ProviderOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["schedule_id", "start", "id"]
        verbose_name = _("override")
        verbose_name_plural = _("overrides")
        indexes = [models.Index(fields=["schedule", "end"], name="oncall_override_sched_end")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="%(app_label)s_%(class)s_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M}"


class Handover(TimeStampedModel):
    """A duty handover (交接班): the outgoing person's open issues and notes for the next.

    The incoming person acknowledges it; one left unacknowledged for
    ``OPSASSURE_ONCALL_HANDOVER_ACK_MINUTES`` is escalated once to the team lead.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for acknowledgement")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ESCALATED = "escalated", _("Escalated to the team lead")

    schedule = models.ForeignKey(
        Schedule, on_delete=models.CASCADE, related_name="handovers", verbose_name=_("schedule")
    )
    handoff_at = models.DateTimeField(_("hand-off at"))
    outgoing = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("handed over by"),
    )
    incoming = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("taken over by"),
    )
    open_issues = models.TextField(_("open issues"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING, db_index=True
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    objects = ProviderOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-handoff_at", "-id"]
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        indexes = [
            models.Index(fields=["state", "created_at"], name="oncall_handover_state_created")
        ]

    def __str__(self) -> str:
        return f"{self.schedule} {self.handoff_at:%Y-%m-%d %H:%M}"


class PersonalFeed(models.Model):
    """The secret token of one person's iCalendar feed (all their shifts, every schedule)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oncall_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)

    class Meta:
        verbose_name = _("personal calendar feed")
        verbose_name_plural = _("personal calendar feeds")

    def __str__(self) -> str:
        return str(self.user)
