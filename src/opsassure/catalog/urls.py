from django.urls import path

from opsassure.catalog import views

app_name = "catalog"

urlpatterns = [
    path("calendars/", views.CalendarListView.as_view(), name="calendar-list"),
    path("calendars/<int:pk>/", views.CalendarDetailView.as_view(), name="calendar-detail"),
    path("calendars/<int:pk>/import/", views.calendar_import, name="calendar-import"),
]
