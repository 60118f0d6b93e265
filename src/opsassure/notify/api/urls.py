from opsassure.core.api.router import router
from opsassure.notify.api import views

router.register("notify/destinations", views.DestinationViewSet, basename="notify-destination")
router.register("notify/notifications", views.NotificationViewSet, basename="notify-notification")
router.register("notify/rules", views.NotificationRuleViewSet, basename="notify-rule")
