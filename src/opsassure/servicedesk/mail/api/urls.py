from opsassure.core.api.router import router
from opsassure.servicedesk.mail.api import views

router.register("servicedesk/mailboxes", views.MailboxViewSet, basename="sdmail-mailbox")
router.register("servicedesk/inbound-mails", views.InboundMailViewSet, basename="sdmail-inbound")
