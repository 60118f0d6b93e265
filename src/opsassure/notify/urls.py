from django.urls import path
from django.views.generic import RedirectView

from opsassure.notify import views

app_name = "notify"

urlpatterns = [
    # /notify/ itself: its main page (people type the short address).
    path("", RedirectView.as_view(pattern_name="notify:rules"), name="home"),
    path("destinations/", views.DestinationListView.as_view(), name="destination-list"),
    path("destinations/new/", views.destination_create, name="destination-create"),
    path(
        "destinations/<int:pk>/", views.DestinationDetailView.as_view(), name="destination-detail"
    ),
    path("destinations/<int:pk>/edit/", views.destination_edit, name="destination-edit"),
    path("destinations/<int:pk>/test/", views.destination_test, name="destination-test"),
    path("notifications/", views.NotificationListView.as_view(), name="notification-list"),
    path(
        "notifications/<int:pk>/",
        views.NotificationDetailView.as_view(),
        name="notification-detail",
    ),
    path("rules/", views.my_rules, name="rules"),
    path("rules/new/", views.rule_create, name="rule-create"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule-edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule-delete"),
]
