from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertingConfig(AppConfig):
    name = "opsassure.alerting"
    label = "alerting"
    verbose_name = _("Alerting")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from opsassure.alerting import metrics, paging
        from opsassure.alerting.tasks import ensure_schedules

        post_migrate.connect(
            ensure_schedules, sender=self, dispatch_uid="opsassure_alerting_schedules"
        )
        paging.connect_signals()
        from django.db.models.signals import m2m_changed, post_save

        from opsassure.alerting.models import MaintenanceWindow, Silence
        from opsassure.alerting.tasks import on_suppression_saved

        for model in (Silence, MaintenanceWindow):
            post_save.connect(on_suppression_saved, sender=model, dispatch_uid=f"mute-{model}")
            m2m_changed.connect(
                on_suppression_saved, sender=model.cis.through, dispatch_uid=f"mute-cis-{model}"
            )
        metrics.register()
