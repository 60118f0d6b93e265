"""CI type pages: the list of types with their schema, and the custom type editor."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opsassure.cmdb.forms import CITypeForm, flag_errors
from opsassure.cmdb.models import AttributeKind, CIType
from opsassure.cmdb.presenters import field_label
from opsassure.core.auth import request_user
from opsassure.core.tenancy import scoped
from opsassure.core.ui.generic import ScopedListView


class CITypeListView(ScopedListView):
    model = CIType
    permission_required = "cmdb.view_citype"
    template_name = "cmdb/type_list.html"
    title = gettext_lazy("CI types")
    ordering = ["sort_order", "code"]
    paginate_by = 200

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        kinds = dict(AttributeKind.choices)
        for ci_type in context["object_list"]:
            ci_type.schema_rows = [
                {
                    "label": spec.get("label") or spec.get("name"),
                    "name": spec.get("name"),
                    "kind": kinds.get(spec.get("kind", "text"), spec.get("kind")),
                    "required": bool(spec.get("required")),
                    "choices": spec.get("choices") or [],
                }
                for spec in ci_type.attribute_schema
            ]
            ci_type.required_labels = [field_label(name) for name in ci_type.required_fields]
        context["can_add"] = self.request.user.has_perm("cmdb.add_citype")
        context["can_change"] = self.request.user.has_perm("cmdb.change_citype")
        return context


@login_required
@permission_required("cmdb.add_citype", raise_exception=True)
def type_create(request: HttpRequest) -> HttpResponse:
    return _type_form(request, CIType())


@login_required
@permission_required("cmdb.change_citype", raise_exception=True)
def type_edit(request: HttpRequest, pk: int) -> HttpResponse:
    ci_type = get_object_or_404(scoped(CIType, request_user(request)), pk=pk)
    if ci_type.is_builtin:
        messages.error(request, _("Built-in types cannot be edited here."))
        return redirect("cmdb:type-list")
    return _type_form(request, ci_type)


def _type_form(request: HttpRequest, ci_type: CIType) -> HttpResponse:
    creating = ci_type.pk is None
    form = CITypeForm(request.POST or None, instance=ci_type)
    if request.method == "POST":
        if form.is_valid():
            with transaction.atomic():
                saved = form.save()
            messages.success(
                request,
                (_("CI type %(name)s created.") if creating else _("CI type %(name)s saved."))
                % {"name": saved},
            )
            return redirect("cmdb:type-list")
        flag_errors(form)
        return render(
            request, "cmdb/type_form.html", {"form": form, "creating": creating}, status=400
        )
    return render(request, "cmdb/type_form.html", {"form": form, "creating": creating})
