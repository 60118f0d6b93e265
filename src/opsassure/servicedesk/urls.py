"""Service desk pages, mounted at /servicedesk/ (namespace ``servicedesk``)."""

from django.urls import include, path
from django.views.generic import RedirectView

from opsassure.servicedesk import (
    downloads,
    views,
    views_actions,
    views_create,
    views_portal,
    views_rating,
    views_ticket,
)

app_name = "servicedesk"

urlpatterns = [
    # /servicedesk/ itself: its main page (people type the short address).
    path(
        "",
        RedirectView.as_view(pattern_name=f"servicedesk:queue-{views.QUEUES[0].key}"),
        name="home",
    ),
    # Agent queues (customer users asking for one get their portal list).
    *[
        path(
            f"queues/{queue.key}/",
            views.QueueView.as_view(queue=queue.key),
            name=f"queue-{queue.key}",
        )
        for queue in views.QUEUES
    ],
    path("tickets/new/phone/", views_create.phone_ticket, name="ticket-phone"),
    path(
        "tickets/new/phone/customer-fields/",
        views_create.phone_customer_fields,
        name="phone-customer-fields",
    ),
    path("tickets/new/phone/priority/", views_create.phone_priority, name="phone-priority"),
    # One ticket page for agents and customer users; it shows what the role may see.
    path("tickets/<int:pk>/", views_ticket.ticket_detail, name="ticket-detail"),
    path("tickets/<int:pk>/reply/", views_actions.reply, name="ticket-reply"),
    path("tickets/<int:pk>/note/", views_actions.note, name="ticket-note"),
    path("tickets/<int:pk>/assign/", views_actions.assign, name="ticket-assign"),
    path("tickets/<int:pk>/transition/", views_actions.transition, name="ticket-transition"),
    path("tickets/<int:pk>/arrival/", views_actions.arrival, name="ticket-arrival"),
    path("tickets/<int:pk>/classify/", views_actions.classify, name="ticket-classify"),
    path("tickets/<int:pk>/attach/", views_actions.attach, name="ticket-attach"),
    path("tickets/<int:pk>/rate/", views_actions.rate, name="ticket-rate"),
    # Files: Attachment.objects.visible_to(user), served as downloads (never inline).
    path("attachments/<int:pk>/", downloads.attachment_download, name="attachment-download"),
    # Customer portal.
    path("portal/", views_portal.portal_list, name="portal"),
    path("portal/new/", views_portal.portal_new, name="portal-new"),
    # The e-mailed satisfaction link: no login, the signed token is the credential.
    path("rate/<str:token>/", views_rating.rate_link, name="rate-link"),
    # KPI dashboard (servicedesk/urls_kpi.py).
    path("", include("opsassure.servicedesk.urls_kpi")),
]
