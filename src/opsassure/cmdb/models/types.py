"""CI types, the relation vocabulary and the lifecycle (shared by every customer)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from opsassure.core.models import AuditedModel, SharedQuerySet
from opsassure.core.models.tenancy import code_validator


class Lifecycle(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ORDERED = "ordered", _("Ordered")
    IN_STOCK = "in_stock", _("In stock")
    IN_USE = "in_use", _("In use")
    MAINTENANCE = "maintenance", _("Under maintenance")
    RETIRED = "retired", _("Retired")
    DISPOSED = "disposed", _("Disposed")


# Allowed lifecycle moves. Going back one step is allowed where real life does it
# (a CI returns to stock, maintenance ends); disposal is final.
LIFECYCLE_TRANSITIONS: dict[str, frozenset[str]] = {
    Lifecycle.PLANNED: frozenset(
        {Lifecycle.ORDERED, Lifecycle.IN_STOCK, Lifecycle.IN_USE, Lifecycle.DISPOSED}
    ),
    Lifecycle.ORDERED: frozenset({Lifecycle.IN_STOCK, Lifecycle.IN_USE, Lifecycle.PLANNED}),
    Lifecycle.IN_STOCK: frozenset({Lifecycle.IN_USE, Lifecycle.RETIRED, Lifecycle.DISPOSED}),
    Lifecycle.IN_USE: frozenset({Lifecycle.MAINTENANCE, Lifecycle.IN_STOCK, Lifecycle.RETIRED}),
    Lifecycle.MAINTENANCE: frozenset({Lifecycle.IN_USE, Lifecycle.RETIRED}),
    Lifecycle.RETIRED: frozenset({Lifecycle.DISPOSED, Lifecycle.IN_STOCK}),
    Lifecycle.DISPOSED: frozenset(),
}


class Environment(models.TextChoices):
    PRODUCTION = "production", _("Production")
    TEST = "test", _("Test")
    DEVELOPMENT = "development", _("Development")
    DR = "dr", _("Disaster recovery")


class Criticality(models.IntegerChoices):
    CRITICAL = 1, _("Critical")
    HIGH = 2, _("High")
    MEDIUM = 3, _("Medium")
    LOW = 4, _("Low")


class RelationType(models.TextChoices):
    """``source <type> target``, e.g. "HIS app runs on vm-01"."""

    RUNS_ON = "runs_on", _("runs on")
    DEPENDS_ON = "depends_on", _("depends on")
    CONNECTED_TO = "connected_to", _("connected to")
    HOSTS = "hosts", _("hosts")
    MEMBER_OF = "member_of", _("member of")
    BACKS_UP = "backs_up", _("backs up")


# Which way failure travels along a relation:
#   "to_source": when the target fails, the source is affected (app runs_on vm: vm down → app down)
#   "to_target": when the source fails, the target is affected (host hosts vm; node member_of
#                cluster: the cluster degrades)
#   None: no impact (a cable between peers, a backup job)
IMPACT_DIRECTION: dict[str, str | None] = {
    RelationType.RUNS_ON: "to_source",
    RelationType.DEPENDS_ON: "to_source",
    RelationType.HOSTS: "to_target",
    RelationType.MEMBER_OF: "to_target",
    RelationType.CONNECTED_TO: None,
    RelationType.BACKS_UP: None,
}
# Relation types that must never form a cycle (a thing cannot depend on itself, even indirectly).
ACYCLIC_RELATIONS = frozenset(
    {RelationType.RUNS_ON, RelationType.DEPENDS_ON, RelationType.HOSTS, RelationType.MEMBER_OF}
)


class AttributeKind(models.TextChoices):
    TEXT = "text", _("Text")
    INTEGER = "integer", _("Integer")
    DECIMAL = "decimal", _("Decimal")
    BOOLEAN = "boolean", _("Yes/no")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    IP = "ip", _("IP address")


class CIType(AuditedModel):
    """A kind of configuration item with its own attribute schema.

    ``attribute_schema`` is a list of ``{"name", "label", "kind", "required", "choices"}``;
    it is validated when saved (services.validate_schema) and every CI write is checked
    against it. ``required_fields`` names common CI fields this type must fill
    (e.g. "serial_number" for hardware), used by the configuration audit.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100)
    icon = models.CharField(_("icon"), max_length=40, default="box")
    is_builtin = models.BooleanField(_("built in"), default=False)
    attribute_schema = models.JSONField(_("attribute schema"), default=list, blank=True)
    required_fields = models.JSONField(_("required common fields"), default=list, blank=True)
    is_hardware = models.BooleanField(_("physical asset"), default=False)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=100)

    objects = SharedQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("CI type")
        verbose_name_plural = _("CI types")

    def __str__(self) -> str:
        from opsassure.cmdb.builtin import type_display_name

        return type_display_name(self.code, self.name) if self.is_builtin else self.name

    def attribute(self, name: str) -> dict[str, Any] | None:
        return next((a for a in self.attribute_schema if a.get("name") == name), None)
