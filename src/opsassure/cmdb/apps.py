from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmdbConfig(AppConfig):
    name = "opsassure.cmdb"
    label = "cmdb"
    verbose_name = _("Configuration management")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from opsassure.cmdb.builtin import seed_builtins
        from opsassure.cmdb.compliance import ensure_audit_schedule

        post_migrate.connect(seed_builtins, sender=self, dispatch_uid="opsassure_cmdb_seed")
        post_migrate.connect(
            ensure_audit_schedule, sender=self, dispatch_uid="opsassure_cmdb_audit_schedule"
        )
