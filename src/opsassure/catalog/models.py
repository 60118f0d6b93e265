"""Service calendars: the working time an SLA is measured in.

A calendar has a time zone, working intervals per weekday and special dates (public
holidays, adjusted working days 调休, closures). Provider-wide calendars (no customer, e.g.
the built-in 7×24 and 5×8) are readable by every signed-in user with the view permission —
a customer's SLA is measured in them, so the customer may see which days count. A
customer's own calendar is visible to that customer and to the staff serving it.
"""

from __future__ import annotations

import functools
import zoneinfo
from typing import TYPE_CHECKING, Self

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from opsassure.core.models import AuditedModel, TenantQuerySet
from opsassure.core.models.tenancy import code_validator

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from opsassure.core.models import User


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    """An IANA zone name known to this installation (e.g. Asia/Shanghai)."""
    if value not in _known_zones():
        raise ValidationError(
            _("%(value)s is not an IANA time zone (e.g. Asia/Shanghai)."),
            code="invalid_time_zone",
            params={"value": value[:64]},
        )


class CalendarQuerySet(TenantQuerySet):
    """The tenant scope, plus provider-wide rows for every signed-in user.

    ``TenantQuerySet`` shows NULL-customer rows to provider staff only; a provider calendar
    is what a customer's SLA is measured in, so its customers read it too (they never see
    another customer's own calendar).
    """

    def visible_to(self, user: User | AnonymousUser) -> Self:
        from opsassure.core.tenancy import visible_customer_ids

        field: str = getattr(self.model, "tenant_field", "customer")
        ids = visible_customer_ids(user)
        if ids is None:
            return self.all()
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(Q(**{f"{field}__in": ids}) | Q(**{f"{field}__isnull": True}))


class ServiceCalendar(AuditedModel):
    """A time zone, working intervals per weekday, and dated exceptions."""

    provider_rows_visible = True
    customer = models.ForeignKey(
        "core.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
        help_text=_("Empty for a provider-wide calendar."),
    )
    code = models.CharField(_("code"), max_length=32, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    description = models.TextField(_("description"), blank=True)
    holidays_included = models.BooleanField(
        _("holidays included"),
        default=False,
        help_text=_(
            "Public holidays count as working time (the contract says so); adjusted working "
            "days are then ignored too. Closed days always apply."
        ),
    )
    is_builtin = models.BooleanField(_("built-in"), default=False, editable=False)
    # Bumped by every change of the calendar's intervals or days: cached engines are keyed
    # on it, so no process computes deadlines with a stale calendar.
    revision = models.PositiveIntegerField(_("revision"), default=1, editable=False)

    objects = CalendarQuerySet.as_manager()

    audit_exclude = frozenset({"created_at", "updated_at", "revision"})

    class Meta:
        ordering = ["code", "id"]
        verbose_name = _("service calendar")
        verbose_name_plural = _("service calendars")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "code"], name="%(app_label)s_%(class)s_unique_customer_code"
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(customer__isnull=True),
                name="%(app_label)s_%(class)s_unique_provider_code",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def get_absolute_url(self) -> str:
        return reverse("catalog:calendar-detail", args=[self.pk])

    def coverage(self, year: int) -> bool:
        """Whether the public holidays and 调休 days of ``year`` are known for this calendar.

        A calendar that includes holidays does not depend on them. Otherwise a year without
        any holiday or adjusted-working-day entry falls back to plain weekdays (with a
        warning in the UI and API).
        """
        if self.holidays_included:
            return True
        return self.days.filter(
            date__year=year, kind__in=[CalendarDay.Kind.HOLIDAY, CalendarDay.Kind.WORKDAY]
        ).exists()


class WorkingInterval(AuditedModel):
    """One working interval of a weekday, e.g. Monday 08:00–12:00 (local time of the calendar).

    Stored as minutes of the day so that an interval can end at 24:00 (minute 1440).
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    tenant_field = "calendar__customer"
    provider_rows_visible = True
    calendar = models.ForeignKey(
        ServiceCalendar,
        on_delete=models.CASCADE,
        related_name="intervals",
        verbose_name=_("calendar"),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_minute = models.PositiveSmallIntegerField(
        _("start (minute of the day)"), validators=[MaxValueValidator(1439)]
    )
    end_minute = models.PositiveSmallIntegerField(
        _("end (minute of the day)"), validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )

    objects = CalendarQuerySet.as_manager()

    class Meta:
        ordering = ["calendar_id", "weekday", "start_minute"]
        verbose_name = _("working interval")
        verbose_name_plural = _("working intervals")
        constraints = [
            models.CheckConstraint(
                condition=Q(start_minute__lt=models.F("end_minute"))
                & Q(end_minute__lte=1440)
                & Q(weekday__lte=6),
                name="%(app_label)s_%(class)s_valid_range",
            ),
            models.UniqueConstraint(
                fields=["calendar", "weekday", "start_minute"],
                name="%(app_label)s_%(class)s_unique_start",
            ),
        ]

    def __str__(self) -> str:
        from opsassure.catalog.business_time import format_minute

        return (
            f"{self.get_weekday_display()} "
            f"{format_minute(self.start_minute)}–{format_minute(self.end_minute)}"
        )


class CalendarDay(AuditedModel):
    """A dated exception: a public holiday, an adjusted working day (调休) or a closure."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Public holiday")
        WORKDAY = "workday", _("Adjusted working day (调休)")
        CLOSED = "closed", _("Closed")

    class Source(models.TextChoices):
        SEEDED = "seeded", _("Seeded from the holidays library")
        MANUAL = "manual", _("Entered by hand")
        ICAL = "ical", _("Imported from iCalendar")

    tenant_field = "calendar__customer"
    provider_rows_visible = True
    calendar = models.ForeignKey(
        ServiceCalendar, on_delete=models.CASCADE, related_name="days", verbose_name=_("calendar")
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200, blank=True)
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.MANUAL
    )

    objects = CalendarQuerySet.as_manager()

    class Meta:
        ordering = ["calendar_id", "date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"], name="%(app_label)s_%(class)s_unique_date"
            )
        ]
        indexes = [models.Index(fields=["calendar", "kind", "date"], name="catalog_day_kind_idx")]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()} {self.name}".strip()


# --- Service catalog and SLA policies ------------------------------------------------------


class Impact(models.IntegerChoices):
    """How widely a fault or request touches the customer's business (影响度)."""

    HIGH = 1, _("High — many users or a whole business service")
    MEDIUM = 2, _("Medium — a department or a group of users")
    LOW = 3, _("Low — one user or a workaround exists")


class Urgency(models.IntegerChoices):
    """How fast the business needs it (紧急度)."""

    HIGH = 1, _("High — work has stopped")
    MEDIUM = 2, _("Medium — work is impaired")
    LOW = 3, _("Low — can wait")


class Priority(models.IntegerChoices):
    P1 = 1, _("P1 critical")
    P2 = 2, _("P2 high")
    P3 = 3, _("P3 medium")
    P4 = 4, _("P4 low")


class SlaMetric(models.TextChoices):
    """The three clocks of a Chinese SLA: 响应, 到场, 解决."""

    RESPONSE = "response", _("Response (响应)")
    ARRIVAL = "arrival", _("On-site arrival (到场)")
    RESOLUTION = "resolution", _("Resolution (解决)")


class SlaPolicy(AuditedModel):
    """The targets a customer's service is measured against, in business time of a calendar."""

    # CASCADE: every customer gets a default policy on creation, which must not by itself
    # keep an otherwise empty customer from being deleted. Services and tickets still
    # protect a policy they use (and the customer through their own foreign keys).
    customer = models.ForeignKey(
        "core.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    code = models.CharField(_("code"), max_length=32, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    calendar = models.ForeignKey(
        ServiceCalendar,
        on_delete=models.PROTECT,
        related_name="policies",
        verbose_name=_("service calendar"),
    )
    is_default = models.BooleanField(
        _("customer default"),
        default=False,
        help_text=_("Applies to the customer's tickets whose service names no policy."),
    )
    warn_percent_first = models.PositiveSmallIntegerField(
        _("first warning at (% of target)"),
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    warn_percent_second = models.PositiveSmallIntegerField(
        _("second warning at (% of target)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["customer_id", "code"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "code"], name="%(app_label)s_%(class)s_unique_code"
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_default=True),
                name="%(app_label)s_%(class)s_one_default",
            ),
            models.CheckConstraint(
                condition=Q(warn_percent_first__lte=models.F("warn_percent_second")),
                name="%(app_label)s_%(class)s_warning_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def get_absolute_url(self) -> str:
        return reverse("catalog:policy-detail", args=[self.pk])


class PriorityMatrixCell(AuditedModel):
    """One cell of a policy's impact × urgency → priority matrix (editable per policy)."""

    tenant_field = "policy__customer"
    policy = models.ForeignKey(
        SlaPolicy, on_delete=models.CASCADE, related_name="matrix", verbose_name=_("SLA policy")
    )
    impact = models.PositiveSmallIntegerField(_("impact"), choices=Impact.choices)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["policy_id", "impact", "urgency"]
        verbose_name = _("priority matrix cell")
        verbose_name_plural = _("priority matrix cells")
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "impact", "urgency"], name="%(app_label)s_%(class)s_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_impact_display()} × {self.get_urgency_display()} → P{self.priority}"


class SlaTarget(AuditedModel):
    """Per priority: minutes of business time to respond, to arrive on site, to resolve."""

    tenant_field = "policy__customer"
    policy = models.ForeignKey(
        SlaPolicy, on_delete=models.CASCADE, related_name="targets", verbose_name=_("SLA policy")
    )
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    response_minutes = models.PositiveIntegerField(
        _("response (minutes)"), validators=[MinValueValidator(1)]
    )
    arrival_minutes = models.PositiveIntegerField(
        _("on-site arrival (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty: no on-site arrival target for this priority."),
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (minutes)"), validators=[MinValueValidator(1)]
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["policy_id", "priority"]
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "priority"], name="%(app_label)s_%(class)s_unique"
            )
        ]

    def __str__(self) -> str:
        return f"P{self.priority}"

    def minutes_for(self, metric: str) -> int | None:
        return {
            SlaMetric.RESPONSE: self.response_minutes,
            SlaMetric.ARRIVAL: self.arrival_minutes,
            SlaMetric.RESOLUTION: self.resolution_minutes,
        }[SlaMetric(metric)]


class OlaTarget(AuditedModel):
    """An internal target (OLA) of one support team under a policy, per priority."""

    tenant_field = "policy__customer"
    policy = models.ForeignKey(
        SlaPolicy,
        on_delete=models.CASCADE,
        related_name="ola_targets",
        verbose_name=_("SLA policy"),
    )
    team = models.ForeignKey(
        "core.Team", on_delete=models.CASCADE, related_name="+", verbose_name=_("team")
    )
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    response_minutes = models.PositiveIntegerField(
        _("response (minutes)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (minutes)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["policy_id", "team_id", "priority"]
        verbose_name = _("OLA target")
        verbose_name_plural = _("OLA targets")
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "team", "priority"], name="%(app_label)s_%(class)s_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.team} P{self.priority}"


class Service(AuditedModel):
    """An entry of a customer's service catalogue (服务目录); entries form a tree."""

    class DeliveryMode(models.TextChoices):
        ONSITE = "onsite", _("On-site")
        REMOTE = "remote", _("Remote")
        BOTH = "both", _("On-site and remote")

    customer = models.ForeignKey(
        "core.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent service"),
    )
    code = models.CharField(_("code"), max_length=32, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    goal = models.TextField(_("goal"), blank=True)
    scope = models.TextField(_("scope and content"), blank=True)
    frequency = models.CharField(_("frequency"), max_length=100, blank=True)
    service_hours = models.ForeignKey(
        ServiceCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
        verbose_name=_("service hours"),
    )
    delivery_mode = models.CharField(
        _("delivery mode"), max_length=8, choices=DeliveryMode.choices, default=DeliveryMode.REMOTE
    )
    deliverables = models.TextField(_("deliverables"), blank=True)
    owner_team = models.ForeignKey(
        "core.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner team"),
    )
    sla_policy = models.ForeignKey(
        SlaPolicy,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
        verbose_name=_("SLA policy"),
        help_text=_("Empty: the customer's default policy."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["customer_id", "code"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "code"], name="%(app_label)s_%(class)s_unique_code"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:service-detail", args=[self.pk])
