from opsassure.core.api import views
from opsassure.core.api.router import router

router.register("customers", views.CustomerViewSet, basename="customer")
router.register("customer-contacts", views.CustomerContactViewSet, basename="customercontact")
router.register("teams", views.TeamViewSet, basename="team")
router.register("users", views.UserViewSet, basename="user")
router.register("tokens", views.ApiTokenViewSet, basename="apitoken")
router.register("audit-events", views.AuditEventViewSet, basename="auditevent")
