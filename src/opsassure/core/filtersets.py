"""Filters shared by the UI lists and the API."""

from __future__ import annotations

from typing import Any

import django_filters
from django.forms import NullBooleanSelect
from django.utils.translation import gettext_lazy as _

from opsassure.core.models import AuditEvent, Customer, CustomerContact, Team, User


class ScopedFilterSet(django_filters.FilterSet):
    """Every filter that picks rows of a scoped model offers (and accepts) only visible rows.

    Without this a "customer" drop-down would list every customer's name, and a filter by
    another customer's id would answer differently from a filter by an id that does not exist.
    """

    @property
    def form(self) -> Any:
        # django-filter builds form fields from the class's filters, so scope the instance's
        # form fields: they both render the choices and validate the submitted ids.
        if not hasattr(self, "_form"):
            form = super().form
            user = getattr(self.request, "user", None)
            for field in form.fields.values():
                queryset = getattr(field, "queryset", None)
                manager: Any = getattr(getattr(queryset, "model", None), "_default_manager", None)
                if queryset is None or not hasattr(manager, "visible_to"):
                    continue
                visible = manager.visible_to(user) if user is not None else manager.none()
                field.queryset = queryset.all() & visible
            for field in form.fields.values():
                if isinstance(field.widget, NullBooleanSelect):
                    # Django labels the empty choice of a yes/no filter "Unknown"; in a filter
                    # it means "either".
                    field.widget.choices = [
                        ("unknown", _("Any")),
                        ("true", _("Yes")),
                        ("false", _("No")),
                    ]
                # Tabler/Bootstrap look for every filter widget.
                css = (
                    "form-select"
                    if getattr(field.widget, "input_type", "") == "select"
                    or field.widget.__class__.__name__.endswith("Select")
                    else "form-control"
                )
                field.widget.attrs.setdefault("class", css)
        return self._form


class CustomerFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))

    class Meta:
        model = Customer
        fields = ["status", "code"]

    def search(self, queryset, name, value):  # type: ignore[no-untyped-def]
        return queryset.filter(name__icontains=value) | queryset.filter(code__icontains=value)


class CustomerContactFilterSet(ScopedFilterSet):
    class Meta:
        model = CustomerContact
        fields = ["customer", "is_primary"]


class TeamFilterSet(ScopedFilterSet):
    class Meta:
        model = Team
        fields = ["is_active", "code"]


class UserFilterSet(ScopedFilterSet):
    role = django_filters.CharFilter(field_name="groups__name", label=_("Role"))

    class Meta:
        model = User
        fields = ["customer", "is_active", "username"]


class AuditEventFilterSet(ScopedFilterSet):
    occurred_after = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("From")
    )
    occurred_before = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label=_("Until")
    )
    actor = django_filters.CharFilter(field_name="actor_username", label=_("Actor"))

    class Meta:
        model = AuditEvent
        fields = ["action", "object_type", "object_id", "customer_id"]
