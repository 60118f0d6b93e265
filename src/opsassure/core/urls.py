from django.urls import path
from django.views.generic import RedirectView

from opsassure.core import views

app_name = "core"

urlpatterns = [
    # The short address leads to the main page.
    path("", RedirectView.as_view(pattern_name="core:customer-list"), name="home"),
    path("customers/", views.CustomerListView.as_view(), name="customer-list"),
    path("customers/<int:pk>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("teams/", views.TeamListView.as_view(), name="team-list"),
    path("teams/<int:pk>/", views.TeamDetailView.as_view(), name="team-detail"),
    path("users/", views.UserListView.as_view(), name="user-list"),
    path("users/<int:pk>/", views.UserDetailView.as_view(), name="user-detail"),
    path("audit/", views.AuditListView.as_view(), name="audit-list"),
    path("audit/export/", views.audit_export, name="audit-export"),
    path("profile/", views.profile, name="profile"),
    path("profile/tokens/<int:pk>/revoke/", views.revoke_token, name="token-revoke"),
]
