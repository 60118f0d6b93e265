"""Configuration items, their addresses, tags, locations, suppliers and contracts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import ExpressionWrapper, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from opsassure.cmdb.models.types import CIType, Criticality, Environment, Lifecycle
from opsassure.core.models import (
    AuditedModel,
    ProviderOnlyQuerySet,
    SharedQuerySet,
    TenantQuerySet,
)


class Tag(AuditedModel):
    """A provider-wide label (e.g. 等保三级, 信创, 核心系统) that CIs of any customer may carry."""

    tenant_field = None
    name = models.CharField(_("name"), max_length=50, unique=True)
    color = models.CharField(_("colour"), max_length=20, default="blue")

    objects = SharedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Supplier(AuditedModel):
    """A vendor or service supplier (hardware vendor, maintenance company, cloud provider)."""

    tenant_field = None
    name = models.CharField(_("name"), max_length=200, unique=True)
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    objects = ProviderOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")

    def __str__(self) -> str:
        return self.name


class Location(AuditedModel):
    """Site → room → rack. A provider-wide location (customer empty) is the provider's own DC."""

    class Kind(models.TextChoices):
        SITE = "site", _("Site")
        ROOM = "room", _("Machine room")
        RACK = "rack", _("Rack")

    provider_rows_visible = True
    customer = models.ForeignKey(
        "core.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["customer_id", "name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "parent", "name"],
                name="%(app_label)s_%(class)s_unique_customer_parent_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent} / {self.name}" if self.parent_id else self.name


class MaintenanceContract(AuditedModel):
    """A maintenance (维保) contract covering some of a customer's CIs."""

    customer = models.ForeignKey(
        "core.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("supplier")
    )
    number = models.CharField(_("contract number"), max_length=64)
    service_level = models.CharField(
        _("service level"), max_length=100, blank=True, help_text=_("e.g. 7×24 4-hour on-site")
    )
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"), db_index=True)
    notes = models.TextField(_("notes"), blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["ends_on", "id"]
        verbose_name = _("maintenance contract")
        verbose_name_plural = _("maintenance contracts")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "number"], name="%(app_label)s_%(class)s_unique_customer_number"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="%(app_label)s_%(class)s_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.supplier})"


class ConfigurationItem(AuditedModel):
    """A thing the provider maintains. ``customer`` empty = a shared provider CI.

    Shared provider CIs (monitoring servers, jump hosts, the provider's own network) are
    visible to provider staff only; customer CIs may relate to them.
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
    ci_type = models.ForeignKey(
        CIType, on_delete=models.PROTECT, related_name="items", verbose_name=_("type")
    )
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(
        _("lifecycle status"), max_length=16, choices=Lifecycle.choices, default=Lifecycle.IN_USE
    )
    environment = models.CharField(
        _("environment"), max_length=16, choices=Environment.choices, default=Environment.PRODUCTION
    )
    criticality = models.PositiveSmallIntegerField(
        _("criticality"), choices=Criticality.choices, default=Criticality.MEDIUM
    )
    owner_team = models.ForeignKey(
        "core.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner team"),
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("location"),
    )
    rack_unit = models.PositiveSmallIntegerField(_("rack unit (U)"), null=True, blank=True)
    hostname = models.CharField(_("hostname"), max_length=253, blank=True)
    primary_ip = models.GenericIPAddressField(_("primary IP"), null=True, blank=True)
    vendor = models.CharField(_("vendor"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    asset_tag = models.CharField(_("asset tag"), max_length=64, blank=True)
    description = models.TextField(_("description"), blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="items", verbose_name=_("tags"))
    monitoring_endpoint = models.CharField(
        _("monitoring endpoint"),
        max_length=255,
        blank=True,
        help_text=_("host:port that Prometheus scrapes (e.g. node_exporter), if any."),
    )
    # Asset data
    purchase_date = models.DateField(_("purchase date"), null=True, blank=True)
    cost = models.DecimalField(_("cost"), max_digits=14, decimal_places=2, null=True, blank=True)
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("supplier"),
    )
    warranty_end = models.DateField(_("warranty end"), null=True, blank=True)
    maintenance_contract = models.ForeignKey(
        MaintenanceContract,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("maintenance contract"),
    )
    depreciation_months = models.PositiveSmallIntegerField(
        _("depreciation period (months)"), null=True, blank=True
    )
    verified_at = models.DateTimeField(_("last verified"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("configuration item")
        verbose_name_plural = _("configuration items")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "name"], name="%(app_label)s_%(class)s_unique_customer_name"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(customer__isnull=True),
                name="%(app_label)s_%(class)s_unique_shared_name",
            ),
        ]
        indexes = [
            # One index per list filter/sort, led by the tenant column the scope always adds.
            models.Index(fields=["customer", "name"], name="cmdb_ci_customer_name_idx"),
            models.Index(fields=["customer", "ci_type", "name"], name="cmdb_ci_cust_type_name_idx"),
            models.Index(
                fields=["customer", "status", "name"], name="cmdb_ci_cust_status_name_idx"
            ),
            models.Index(
                fields=["customer", "environment", "name"], name="cmdb_ci_cust_env_name_idx"
            ),
            models.Index(fields=["ci_type", "name"], name="cmdb_ci_type_name_idx"),
            models.Index(fields=["status", "name"], name="cmdb_ci_status_name_idx"),
            models.Index(fields=["criticality", "name"], name="cmdb_ci_criticality_name_idx"),
            models.Index(fields=["hostname"], name="cmdb_ci_hostname_idx"),
            models.Index(fields=["primary_ip"], name="cmdb_ci_primary_ip_idx"),
            models.Index(fields=["serial_number"], name="cmdb_ci_serial_idx"),
            models.Index(fields=["asset_tag"], name="cmdb_ci_asset_tag_idx"),
            models.Index(fields=["warranty_end"], name="cmdb_ci_warranty_end_idx"),
            # The UI's "warranty end" sort puts CIs without a date last in both engines
            # (``warranty_end IS NULL, warranty_end, name, id``); SQLite's plain index has NULLs
            # first and could not serve NULLS LAST, so the list sorted every visible row.
            models.Index(
                ExpressionWrapper(Q(warranty_end__isnull=True), output_field=models.BooleanField()),
                "warranty_end",
                "name",
                "id",
                name="cmdb_ci_warranty_last_idx",
            ),
            # …and its descending twin, read backwards: (IS NULL asc, warranty_end desc, …).
            models.Index(
                ExpressionWrapper(
                    Q(warranty_end__isnull=True), output_field=models.BooleanField()
                ).desc(),
                "warranty_end",
                "name",
                "id",
                name="cmdb_ci_warranty_last_desc_idx",
            ),
            models.Index(fields=["verified_at"], name="cmdb_ci_verified_at_idx"),
            models.Index(fields=["owner_team"], name="cmdb_ci_owner_team_idx"),
            # The default list order for staff, whose scope (several customers OR shared rows)
            # cannot use the customer-led indexes: walk names in order, stop after one page.
            models.Index(fields=["name", "id"], name="cmdb_ci_name_id_idx"),
            # "in use in production / in DR" is the common pair, again without the customer.
            models.Index(
                fields=["status", "environment", "name"], name="cmdb_ci_status_env_name_idx"
            ),
            # Migration 0002 also adds case-insensitive prefix indexes on name, hostname,
            # serial_number and asset_tag (vendor-specific SQL) for the search box.
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("cmdb:ci-detail", args=[self.pk])


class CIAddress(models.Model):
    """Every IP address of a CI (the primary one too), for matching alerts and discovery."""

    tenant_field = "ci__customer"
    provider_rows_visible = True
    ci = models.ForeignKey(
        ConfigurationItem, on_delete=models.CASCADE, related_name="addresses", verbose_name=_("CI")
    )
    address = models.GenericIPAddressField(_("IP address"))
    label = models.CharField(_("label"), max_length=50, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["ci_id", "address"]
        verbose_name = _("IP address")
        verbose_name_plural = _("IP addresses")
        constraints = [
            models.UniqueConstraint(
                fields=["ci", "address"], name="%(app_label)s_%(class)s_unique_ci_address"
            ),
        ]
        indexes = [models.Index(fields=["address"], name="cmdb_ciaddress_address_idx")]

    def __str__(self) -> str:
        return self.address
