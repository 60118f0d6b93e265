from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OncallConfig(AppConfig):
    name = "opsassure.oncall"
    label = "oncall"
    verbose_name = _("On-call")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from opsassure.oncall.tasks import ensure_schedules

        post_migrate.connect(
            ensure_schedules, sender=self, dispatch_uid="opsassure_oncall_schedules"
        )
        from opsassure.oncall import metrics

        metrics.register()
