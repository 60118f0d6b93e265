"""Generic scoped list and detail views used by every app's UI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.db import models, transaction
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.views.generic import DetailView, ListView

from opsassure.core.tenancy import scoped


@dataclass(frozen=True)
class Column:
    """A table column: an attribute path, a header, and whether it links to the row."""

    attr: str
    header: str | Promise
    link: bool = False

    def value(self, obj: Any) -> Any:
        value: Any = obj
        for part in self.attr.split("."):
            display = getattr(value, f"get_{part}_display", None)
            value = display() if display is not None else getattr(value, part, None)
            if value is None:
                return ""
        # Flags and lists (label matchers, severities) read as words, not Python literals.
        if isinstance(value, dt.datetime):
            # One format on every list, as on the live alert list, in the user's zone.
            return date_format(timezone.localtime(value), "Y-m-d H:i")
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, list | tuple):
            return ", ".join(str(item) for item in value) or "—"
        return value


class ScopedListView(LoginRequiredMixin, PermissionRequiredMixin, ListView[Any]):
    """A filtered, paginated table over ``model.objects.visible_to(user)``."""

    model: type[models.Model]
    columns: list[Column] = []
    filterset_class: Any = None
    template_name = "ui/list.html"
    paginate_by = 50
    title: str | Promise = ""
    create_url_name: str | None = None
    export_url_name: str | None = None
    ordering: Any = None

    def get_queryset(self) -> models.QuerySet[Any]:
        queryset = scoped(self.model, self.request.user)
        if self.ordering:
            queryset = queryset.order_by(*self.ordering)
        if self.filterset_class is not None:
            self.filterset = self.filterset_class(
                self.request.GET, queryset=queryset, request=self.request
            )
            queryset = self.filterset.qs if self.filterset.is_valid() else queryset.none()
        return queryset

    def _may_create(self) -> bool:
        opts = self.model._meta
        user: Any = self.request.user
        return user.has_perm(f"{opts.app_label}.add_{opts.model_name}")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        rows = [
            [(column, column.value(obj)) for column in self.columns]
            for obj in context["object_list"]
        ]
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            columns=self.columns,
            rows=zip(context["object_list"], rows, strict=True),
            title=self.title or self.model._meta.verbose_name_plural,
            filterset=getattr(self, "filterset", None),
            querystring=query.urlencode(),
            create_url_name=self.create_url_name if self._may_create() else None,
            export_url_name=self.export_url_name,
        )
        return context


class ScopedDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView[Any]):
    """Another customer's object is a 404, exactly like one that does not exist."""

    model: type[models.Model]

    def get_queryset(self) -> models.QuerySet[Any]:
        return scoped(self.model, self.request.user)


def save_or_show_form(
    request: HttpRequest,
    form: ModelForm[Any],
    template: str,
    context: dict[str, Any],
    saved_message: Callable[[Any], str],
) -> HttpResponse:
    """The create/edit page of one object: on a valid POST save it in one transaction, say so
    and go to the object's page; otherwise show the form, its problem fields marked, with a
    400 after a POST (nothing was written)."""
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
        messages.success(request, saved_message(saved))
        return redirect(saved.get_absolute_url())
    for name in form.errors:
        if name in form.fields:
            widget = form.fields[name].widget
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
    return render(
        request,
        template,
        {"form": form, **context},
        status=400 if request.method == "POST" else 200,
    )
