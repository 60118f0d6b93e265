from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "opsassure.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        import opsassure.celery  # noqa: F401  (makes our Celery app the current one)
        from opsassure.core import audit, checks, roles, signals  # noqa: F401  (connect receivers)
        from opsassure.core.services import ensure_periodic_tasks

        audit.connect_model_signals()
        roles.connect()
        post_migrate.connect(
            ensure_periodic_tasks, sender=self, dispatch_uid="opsassure_periodic_tasks"
        )
