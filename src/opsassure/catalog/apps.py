from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "opsassure.catalog"
    label = "catalog"
    verbose_name = _("Service catalog and SLA")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate, post_save

        from opsassure.catalog.builtin import seed_builtin_calendars
        from opsassure.catalog.hooks import give_new_customer_a_default_policy
        from opsassure.core.models import Customer

        post_migrate.connect(
            seed_builtin_calendars, sender=self, dispatch_uid="opsassure_catalog_seed"
        )
        post_save.connect(
            give_new_customer_a_default_policy,
            sender=Customer,
            dispatch_uid="opsassure_catalog_default_policy",
        )
