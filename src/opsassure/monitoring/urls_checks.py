"""Monitoring UI routes of this part (included by monitoring/urls.py)."""

from django.urls import URLPattern, path

from opsassure.monitoring import views, views_demo, views_probes

urlpatterns: list[URLPattern] = [
    path("", views.overview, name="overview"),
    path("checks/", views.CheckListView.as_view(), name="check-list"),
    path("checks/new/", views.check_create, name="check-create"),
    path("checks/bulk/", views.check_bulk, name="check-bulk"),
    path("checks/<int:pk>/", views.check_detail, name="check-detail"),
    path("checks/<int:pk>/chart/", views.check_chart, name="check-chart"),
    path("checks/<int:pk>/edit/", views.check_edit, name="check-edit"),
    path("checks/<int:pk>/enabled/", views.check_toggle, name="check-toggle"),
    path("checks/<int:pk>/delete/", views.check_delete, name="check-delete"),
    path("probes/", views_probes.probe_list, name="probe-list"),
    path("probes/<int:pk>/rotate/", views_probes.probe_rotate, name="probe-rotate"),
    path("probes/<int:pk>/revoke/", views_probes.probe_revoke, name="probe-revoke"),
    path("ci/<int:pk>/panel/", views.ci_panel, name="ci-panel"),
    path("demo-target/<str:name>/", views_demo.demo_target, name="demo-target"),
]
