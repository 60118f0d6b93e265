from django.urls import path
from django.views.generic import RedirectView

from opsassure.servicedesk.mail import views

app_name = "sdmail"

urlpatterns = [
    # The short address leads to the main page.
    path("", RedirectView.as_view(pattern_name="sdmail:mailbox-list"), name="home"),
    path("mailboxes/", views.MailboxListView.as_view(), name="mailbox-list"),
    path("mailboxes/new/", views.mailbox_create, name="mailbox-create"),
    path("mailboxes/<int:pk>/", views.MailboxDetailView.as_view(), name="mailbox-detail"),
    path("mailboxes/<int:pk>/edit/", views.mailbox_edit, name="mailbox-edit"),
    path("inbound/", views.InboundMailListView.as_view(), name="inbound-list"),
    path("inbound/<int:pk>/", views.InboundMailDetailView.as_view(), name="inbound-detail"),
    path("inbound/<int:pk>/reprocess/", views.inbound_reprocess, name="inbound-reprocess"),
]
