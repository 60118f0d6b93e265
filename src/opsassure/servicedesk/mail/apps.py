from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "opsassure.servicedesk.mail"
    label = "sdmail"
    verbose_name = _("Service desk e-mail")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from opsassure.servicedesk.mail import outbound
        from opsassure.servicedesk.mail.schedule import ensure_mail_schedule

        outbound.connect()
        post_migrate.connect(
            ensure_mail_schedule, sender=self, dispatch_uid="opsassure_sdmail_schedule"
        )
