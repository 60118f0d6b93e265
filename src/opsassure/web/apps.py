from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "opsassure.web"
    label = "web"
    verbose_name = _("Web")

    def ready(self) -> None:
        from opsassure.core.ui import nav

        nav.load_app_menus()
