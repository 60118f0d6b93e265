"""Base models every app builds on: timestamps, audit change tracking, tenant scope."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from opsassure.core.models.users import User


class TenantQuerySet(models.QuerySet[Any]):
    """The one tenant scope: every view, API route, export and download filters through it.

    A model names the path from its rows to the owning ``Customer`` in ``tenant_field``
    (``"customer"`` by default, ``"pk"`` on Customer itself, ``"ticket__customer"`` on a child
    row). Rows whose tenant is NULL are provider-wide; provider staff see them when the model
    sets ``provider_rows_visible = True``.
    """

    def visible_to(self, user: User | AnonymousUser) -> Self:
        from opsassure.core.tenancy import is_provider_staff, visible_customer_ids

        model = self.model
        field: str = getattr(model, "tenant_field", "customer")
        ids = visible_customer_ids(user)
        if ids is None:
            return self.all()
        condition = Q(**{f"{field}__in": ids})
        if getattr(model, "provider_rows_visible", False) and is_provider_staff(user):
            condition |= Q(**{f"{field}__isnull": True})
        return self.filter(condition)


class SharedQuerySet(models.QuerySet[Any]):
    """Provider-wide vocabulary (types, tags): every signed-in user may read it."""

    def visible_to(self, user: User | AnonymousUser) -> Self:
        return self.all() if user.is_authenticated and user.is_active else self.none()


class ProviderOnlyQuerySet(models.QuerySet[Any]):
    """Provider-internal rows (teams, suppliers): staff see them all, customer users none."""

    def visible_to(self, user: User | AnonymousUser) -> Self:
        from opsassure.core.tenancy import is_provider_staff

        return self.all() if is_provider_staff(user) else self.none()


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class AuditedModel(TimeStampedModel):
    """Rows of subclasses are written to the audit trail on create, update and delete.

    The values loaded from the database are kept so that an update records a field-level
    diff without a second query.
    """

    audit_exclude: ClassVar[frozenset[str]] = frozenset({"created_at", "updated_at"})
    _loaded_values: dict[str, Any]

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Self:
        instance = super().from_db(db, field_names, values)
        instance._loaded_values = dict(zip(field_names, values, strict=True))
        return instance

    def audit_snapshot(self) -> dict[str, Any]:
        """Concrete (non-M2M) field values by attribute name, as stored."""
        return {
            field.attname: getattr(self, field.attname)
            for field in self._meta.concrete_fields
            if field.attname not in self.audit_exclude
        }


class TenantOwnedModel(AuditedModel):
    """A row that belongs to exactly one customer (the tenant)."""

    customer = models.ForeignKey(
        "core.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True
