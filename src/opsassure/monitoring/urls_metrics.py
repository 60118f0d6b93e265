"""Monitoring UI routes of the metrics part (included by monitoring/urls.py)."""

from django.urls import URLPattern, path

from opsassure.monitoring import views_metrics as views

urlpatterns: list[URLPattern] = [
    path("rules/", views.RuleListView.as_view(), name="rules"),
    path("rules/new/", views.rule_create, name="rule-create"),
    path("rules/<int:pk>/", views.rule_edit, name="rule-edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule-delete"),
    path("agents/", views.AgentListView.as_view(), name="agents"),
    path("agent-tokens/", views.agent_tokens, name="agent-tokens"),
    path("agent-tokens/<int:pk>/revoke/", views.agent_token_revoke, name="agent-token-revoke"),
]
