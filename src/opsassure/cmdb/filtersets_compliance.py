"""Filters for configuration audit scores and findings, shared by the UI list and the API."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from opsassure.cmdb.compliance import visible_rules
from opsassure.cmdb.models import CIType, ConfigAuditFinding, ConfigAuditRule, ConfigAuditScore
from opsassure.core.models import Customer


def _user(request: Any) -> Any:
    return getattr(request, "user", None)


def _customers(request: Any) -> QuerySet[Customer]:
    user = _user(request)
    return Customer.objects.visible_to(user) if user is not None else Customer.objects.none()


def _rules(request: Any) -> QuerySet[ConfigAuditRule]:
    user = _user(request)
    return visible_rules(user) if user is not None else ConfigAuditRule.objects.none()


class AuditScoreFilterSet(django_filters.FilterSet):
    # Runs are provider rows; customers still filter their own scores by run id.
    run = django_filters.NumberFilter(field_name="run_id", label=_("Audit run"))
    rule = django_filters.ModelChoiceFilter(queryset=_rules, label=_("Rule"))
    customer = django_filters.ModelChoiceFilter(queryset=_customers, label=_("Customer"))
    ci_type = django_filters.ModelChoiceFilter(
        queryset=CIType.objects.all(), to_field_name="code", label=_("Type")
    )

    class Meta:
        model = ConfigAuditScore
        fields = ["run", "rule", "customer", "ci_type"]


class AuditFindingFilterSet(django_filters.FilterSet):
    run = django_filters.NumberFilter(field_name="run_id", label=_("Audit run"))
    rule = django_filters.ModelChoiceFilter(queryset=_rules, label=_("Rule"))
    ci = django_filters.NumberFilter(field_name="ci_id", label=_("CI"))
    customer = django_filters.ModelChoiceFilter(
        queryset=_customers, field_name="ci__customer", label=_("Customer")
    )
    ci_type = django_filters.ModelChoiceFilter(
        queryset=CIType.objects.all(),
        field_name="ci__ci_type",
        to_field_name="code",
        label=_("Type"),
    )

    class Meta:
        model = ConfigAuditFinding
        fields = ["run", "rule", "ci", "customer", "ci_type"]
