from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "opsassure.catalog"
    label = "catalog"
    verbose_name = _("Service catalog and SLA")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from opsassure.catalog.builtin import seed_builtin_calendars

        post_migrate.connect(
            seed_builtin_calendars, sender=self, dispatch_uid="opsassure_catalog_seed"
        )
