from django.urls import path

from opsassure.alerting import views

app_name = "alerting"

urlpatterns = [
    path("", views.GroupListView.as_view(), name="group-list"),
    path("groups/<int:pk>/", views.GroupDetailView.as_view(), name="group-detail"),
    path("groups/<int:pk>/acknowledge/", views.group_acknowledge, name="group-acknowledge"),
    path("alerts/", views.AlertListView.as_view(), name="alert-list"),
    path("integrations/", views.IntegrationListView.as_view(), name="integration-list"),
    path("integrations/new/", views.integration_create, name="integration-create"),
    path(
        "integrations/<int:pk>/", views.IntegrationDetailView.as_view(), name="integration-detail"
    ),
    path("integrations/<int:pk>/test/", views.integration_test, name="integration-test"),
    path("integrations/<int:pk>/revoke/", views.integration_revoke, name="integration-revoke"),
    path("silences/", views.SilenceListView.as_view(), name="silence-list"),
    path("silences/new/", views.silence_create, name="silence-create"),
    path("silences/<int:pk>/expire/", views.silence_expire, name="silence-expire"),
    path("maintenance/", views.MaintenanceListView.as_view(), name="maintenance-list"),
    path("maintenance/new/", views.maintenance_create, name="maintenance-create"),
    path("calendar/", views.calendar_week, name="calendar"),
    path("routing-rules/", views.RoutingRuleListView.as_view(), name="routingrule-list"),
    path("routing-rules/new/", views.routing_rule_create, name="routingrule-create"),
    path("routing-rules/<int:pk>/", views.routing_rule_edit, name="routingrule-edit"),
    path(
        "routing-rules/<int:pk>/delete/",
        views.rule_delete,
        {"kind": "routingrule"},
        name="routingrule-delete",
    ),
    path("inhibition-rules/", views.InhibitionRuleListView.as_view(), name="inhibitionrule-list"),
    path("inhibition-rules/new/", views.inhibition_rule_create, name="inhibitionrule-create"),
    path("inhibition-rules/<int:pk>/", views.inhibition_rule_edit, name="inhibitionrule-edit"),
    path(
        "inhibition-rules/<int:pk>/delete/",
        views.rule_delete,
        {"kind": "inhibitionrule"},
        name="inhibitionrule-delete",
    ),
]
