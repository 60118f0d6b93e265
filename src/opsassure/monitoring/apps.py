from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "opsassure.monitoring"
    label = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from opsassure.core.ui.panels import register_ci_panel
        from opsassure.monitoring.tasks import ensure_schedules

        post_migrate.connect(
            ensure_schedules, sender=self, dispatch_uid="opsassure_monitoring_schedules"
        )
        # The CI page's monitoring card (its checks and host metrics), loaded by HTMX.
        register_ci_panel(
            "monitoring",
            _("Monitoring"),
            "monitoring:ci-panel",
            permission="monitoring.view_monitor",
            icon="activity-heartbeat",
        )
