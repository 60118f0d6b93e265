"""The custom user model: provider staff (no customer) and customer users (exactly one customer)."""

from __future__ import annotations

import zoneinfo
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from opsassure.core.models.base import AuditedModel

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(zone)s"), params={"zone": value})


class ScopedUserManager(UserManager["User"]):
    def visible_to(self, user: User | AnonymousUser) -> models.QuerySet[User]:
        """Staff see staff and the users of customers they serve; customer users their own."""
        from opsassure.core.tenancy import is_provider_staff, visible_customer_ids

        ids = visible_customer_ids(user)
        queryset = self.get_queryset()
        if ids is None:
            return queryset
        if is_provider_staff(user):
            return queryset.filter(Q(customer__isnull=True) | Q(customer__in=ids))
        return queryset.filter(customer__in=ids)


class User(AuditedModel, AbstractUser):
    audit_exclude: ClassVar[frozenset[str]] = frozenset(
        {"created_at", "updated_at", "password", "last_login"}
    )

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    customer = models.ForeignKey(
        "core.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("customer"),
        help_text=_("Empty for provider staff; set for the users of a customer."),
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Empty: follow the browser."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    phone = models.CharField(_("mobile phone"), max_length=32, blank=True)
    dingtalk_id = models.CharField(_("DingTalk user id"), max_length=64, blank=True)
    wecom_id = models.CharField(_("WeCom user id"), max_length=64, blank=True)
    feishu_id = models.CharField(_("Feishu user id"), max_length=64, blank=True)

    objects: ClassVar[ScopedUserManager] = ScopedUserManager()

    tenant_field = "customer"

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    def get_absolute_url(self) -> str:
        return reverse("core:user-detail", args=[self.pk])

    @property
    def is_provider_staff(self) -> bool:
        return self.customer_id is None

    @property
    def role_codes(self) -> list[str]:
        return [group.name for group in self.groups.all()]

    @property
    def role_names(self) -> str:
        from opsassure.core.roles import ROLE_LABELS

        return ", ".join(str(ROLE_LABELS.get(code, code)) for code in sorted(self.role_codes))
