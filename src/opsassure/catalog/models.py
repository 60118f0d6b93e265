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
