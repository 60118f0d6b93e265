"""Typed relations between CIs, and the per-CI change history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from opsassure.cmdb.models.items import ConfigurationItem
from opsassure.cmdb.models.types import RelationType
from opsassure.core.models import AuditedModel, TenantQuerySet


class Relation(AuditedModel):
    """``source <relation_type> target``.

    ``customer`` is the source's customer (NULL when the source is a shared provider CI); it is
    stored so that the tenant scope is one indexed column, and the services keep it equal to
    the source's. A relation may point at another customer's CI only if that CI is shared.
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
    source = models.ForeignKey(
        ConfigurationItem,
        on_delete=models.CASCADE,
        related_name="outgoing",
        verbose_name=_("source"),
    )
    target = models.ForeignKey(
        ConfigurationItem,
        on_delete=models.CASCADE,
        related_name="incoming",
        verbose_name=_("target"),
    )
    relation_type = models.CharField(_("relation"), max_length=20, choices=RelationType.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["source_id", "relation_type", "target_id"]
        verbose_name = _("relation")
        verbose_name_plural = _("relations")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target", "relation_type"],
                name="%(app_label)s_%(class)s_unique_source_target_type",
            ),
            models.CheckConstraint(
                condition=~Q(source=F("target")), name="%(app_label)s_%(class)s_not_self"
            ),
        ]
        indexes = [
            models.Index(fields=["target", "relation_type"], name="cmdb_rel_target_type_idx"),
            models.Index(fields=["customer", "source"], name="cmdb_rel_customer_source_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.get_relation_type_display()} {self.target}"


class CIChange(models.Model):
    """One change of a CI: field diffs, or a relation added/removed. Append-only.

    Kept next to the CI (in addition to the global audit trail) so a CI's timeline and its
    state at a past date are one indexed query.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        RELATION_ADDED = "relation_added", _("Relation added")
        RELATION_REMOVED = "relation_removed", _("Relation removed")
        DELETED = "deleted", _("Deleted")

    tenant_field = "ci__customer"
    provider_rows_visible = True
    ci = models.ForeignKey(
        ConfigurationItem, on_delete=models.CASCADE, related_name="changes", verbose_name=_("CI")
    )
    at = models.DateTimeField(_("time"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    source = models.CharField(
        _("source"),
        max_length=30,
        default="ui",
        help_text=_("ui, api, import, discovery, bulk, system"),
    )
    # field -> [before, after]; for relations: {"relation": {...}}
    changes = models.JSONField(_("changes"), default=dict)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("CI change")
        verbose_name_plural = _("CI changes")
        indexes = [models.Index(fields=["ci", "at"], name="cmdb_cichange_ci_at_idx")]

    def __str__(self) -> str:
        return f"{self.ci_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
