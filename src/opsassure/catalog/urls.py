from django.urls import path
from django.views.generic import RedirectView

from opsassure.catalog import views, views_catalogue

app_name = "catalog"

urlpatterns = [
    # /catalog/ itself: its main page (people type the short address).
    path("", RedirectView.as_view(pattern_name="catalog:service-list"), name="home"),
    path("calendars/", views.CalendarListView.as_view(), name="calendar-list"),
    path("calendars/<int:pk>/", views.CalendarDetailView.as_view(), name="calendar-detail"),
    path("calendars/<int:pk>/import/", views.calendar_import, name="calendar-import"),
    path("services/", views_catalogue.ServiceTreeView.as_view(), name="service-list"),
    path("services/new/", views_catalogue.service_create, name="service-create"),
    path("services/<int:pk>/", views_catalogue.ServiceDetailView.as_view(), name="service-detail"),
    path("services/<int:pk>/edit/", views_catalogue.service_edit, name="service-edit"),
    path("services/<int:pk>/delete/", views_catalogue.service_delete, name="service-delete"),
    path("sla-policies/", views_catalogue.PolicyListView.as_view(), name="policy-list"),
    path("sla-policies/new/", views_catalogue.policy_create, name="policy-create"),
    path(
        "sla-policies/<int:pk>/", views_catalogue.PolicyDetailView.as_view(), name="policy-detail"
    ),
    path("sla-policies/<int:pk>/edit/", views_catalogue.policy_edit, name="policy-edit"),
    path("sla-policies/<int:pk>/delete/", views_catalogue.policy_delete, name="policy-delete"),
]
