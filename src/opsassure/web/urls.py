from django.urls import path

from opsassure.web import views

app_name = "web"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("language/", views.set_language, name="set-language"),
]
