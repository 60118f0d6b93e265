"""On-call pages, mounted at /oncall/ (namespace ``oncall``)."""

from django.urls import path
from django.views.generic import RedirectView

from opsassure.oncall import views, views_links

app_name = "oncall"

urlpatterns = [
    # /oncall/ itself: its main page (people type the short address).
    path("", RedirectView.as_view(pattern_name="oncall:schedule-list"), name="home"),
    path("schedules/", views.ScheduleListView.as_view(), name="schedule-list"),
    path("schedules/new/", views.schedule_edit, name="schedule-create"),
    path("schedules/<int:pk>/", views.schedule_detail, name="schedule-detail"),
    path("schedules/<int:pk>/edit/", views.schedule_edit, name="schedule-edit"),
    path(
        "schedules/<int:pk>/overrides/<int:override_pk>/delete/",
        views.override_delete,
        name="override-delete",
    ),
    path("handovers/", views.handover_log, name="handover-log"),
    path("handovers/<int:pk>/acknowledge/", views.handover_acknowledge, name="handover-ack"),
    path("policies/", views.PolicyListView.as_view(), name="policy-list"),
    path("policies/new/", views.policy_edit, name="policy-create"),
    path("policies/<int:pk>/", views.policy_edit, name="policy-detail"),
    path("escalations/", views.RunListView.as_view(), name="run-list"),
    path("escalations/<int:pk>/", views.run_detail, name="run-detail"),
    path("escalations/<int:pk>/<str:action>/", views.run_action, name="run-action"),
    # Without login: the signed token / the feed token is the credential.
    path("act/<str:token>/", views_links.action_link, name="action-link"),
    path("feeds/schedule/<str:token>.ics", views_links.schedule_feed, name="schedule-feed"),
    path("feeds/person/<str:token>.ics", views_links.person_feed, name="person-feed"),
]
