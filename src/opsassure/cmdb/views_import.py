"""The CI import wizard, the import template and the export of the CI list (UI).

Wizard: upload → dry run → either the problems (row, column, message) or a summary of what
would be created / updated / left unchanged → "Import now", which imports the same file.

Between the two steps a file of up to ``SESSION_FILE_BYTES`` is kept in the session (base64).
Sessions are rows in the database, read on every request of that user, so bigger files are
not kept: the confirmation step then asks for the file again. The import validates the file
again anyway, inside its transaction, so nothing depends on the two uploads being identical.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opsassure.cmdb import exporting
from opsassure.cmdb.filtersets import CIFilterSet
from opsassure.cmdb.importing import MAX_FILE_BYTES, ImportReport, ImportTooLargeError, import_file
from opsassure.cmdb.models import CIType, ConfigurationItem
from opsassure.core.auth import request_user
from opsassure.core.models import Customer
from opsassure.core.tenancy import scoped

SESSION_KEY = "cmdb_import_pending"
SESSION_FILE_BYTES = 2 * 1024 * 1024


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        required=False,
        help_text=gettext_lazy("CSV (UTF-8 or GBK) or Excel .xlsx, first row = column names."),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.xlsx"}),
    )
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.none(),
        to_field_name="code",
        required=False,
        label=gettext_lazy("Customer"),
        help_text=gettext_lazy("Empty: the customer column of each row."),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    ci_type = forms.ModelChoiceField(
        queryset=CIType.objects.order_by("sort_order", "code"),
        to_field_name="code",
        required=False,
        label=gettext_lazy("Type"),
        help_text=gettext_lazy("Empty: the type column of each row."),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["customer"]
        field.queryset = scoped(Customer, user).order_by("code")


def _pending(request: HttpRequest) -> dict[str, Any] | None:
    pending = request.session.get(SESSION_KEY)
    return pending if isinstance(pending, dict) else None


def _remember(request: HttpRequest, data: bytes, filename: str, form: ImportForm) -> dict[str, Any]:
    customer = form.cleaned_data.get("customer")
    ci_type = form.cleaned_data.get("ci_type")
    pending: dict[str, Any] = {
        "filename": filename,
        "sha256": hashlib.sha256(data).hexdigest(),
        "customer": customer.code if customer else "",
        "ci_type": ci_type.code if ci_type else "",
        "data": base64.b64encode(data).decode() if len(data) <= SESSION_FILE_BYTES else "",
    }
    request.session[SESSION_KEY] = pending
    return pending


def _render(
    request: HttpRequest,
    form: ImportForm,
    report: ImportReport | None = None,
    pending: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "cmdb/import.html",
        {
            "form": form,
            "report": report,
            "pending": pending,
            "kept_in_session": bool(pending and pending.get("data")),
            "max_mb": MAX_FILE_BYTES // 2**20,
            "title": _("Import configuration items"),
        },
        status=status,
    )


@login_required
@permission_required("cmdb.add_configurationitem", raise_exception=True)
def ci_import(request: HttpRequest) -> HttpResponse:
    """Upload and check (dry run), then import the checked file."""
    user = request_user(request)
    if request.method != "POST":
        request.session.pop(SESSION_KEY, None)
        return _render(request, ImportForm(user=user))
    form = ImportForm(request.POST, request.FILES, user=user)
    if not form.is_valid():
        return _render(request, form, status=400)
    confirm = request.POST.get("step") == "import"
    upload = form.cleaned_data.get("file")
    pending = _pending(request) if confirm else None
    if upload is not None:
        if upload.size is not None and upload.size > MAX_FILE_BYTES:
            form.add_error(
                "file", _("The file is larger than %(mb)d MB.") % {"mb": MAX_FILE_BYTES // 2**20}
            )
            return _render(request, form, status=413)
        data, filename = upload.read(), upload.name or ""
    elif pending is not None and pending.get("data"):
        data, filename = base64.b64decode(pending["data"]), str(pending["filename"])
    else:
        form.add_error("file", _("Choose the file to import."))
        return _render(request, form, pending=pending, status=400)
    try:
        report = import_file(
            actor=user,
            data=data,
            filename=filename,
            dry_run=not confirm,
            customer=form.cleaned_data.get("customer"),
            ci_type=form.cleaned_data.get("ci_type"),
        )
    except ImportTooLargeError:
        form.add_error(
            "file", _("The file is larger than %(mb)d MB.") % {"mb": MAX_FILE_BYTES // 2**20}
        )
        return _render(request, form, status=413)
    if report.errors:
        request.session.pop(SESSION_KEY, None)
        return _render(request, form, report=report, status=400)
    if not confirm:
        return _render(
            request, form, report=report, pending=_remember(request, data, filename, form)
        )
    request.session.pop(SESSION_KEY, None)
    messages.success(
        request,
        _("Imported: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
        % {"created": report.created, "updated": report.updated, "unchanged": report.unchanged},
    )
    return redirect("cmdb:ci-import")


def _format(request: HttpRequest) -> str | None:
    file_format = request.GET.get("format") or "csv"
    return file_format if file_format in exporting.FORMATS else None


@login_required
@permission_required("cmdb.add_configurationitem", raise_exception=True)
def ci_import_template(request: HttpRequest) -> HttpResponseBase:
    """An empty CSV or XLSX with the column headers (and a type's attribute columns)."""
    file_format = _format(request)
    if file_format is None:
        return HttpResponse(_("Unknown format."), status=400, content_type="text/plain")
    ci_type = None
    if request.GET.get("ci_type"):
        ci_type = CIType.objects.filter(code=request.GET["ci_type"]).first()
        if ci_type is None:
            return HttpResponse(_("Unknown type."), status=400, content_type="text/plain")
    return exporting.http_response(exporting.template(file_format, ci_type))


@login_required
@permission_required("cmdb.view_configurationitem", raise_exception=True)
def ci_export(request: HttpRequest) -> HttpResponseBase:
    """The CI list as filtered on screen (same query string), as CSV or XLSX; audited."""
    file_format = _format(request)
    if file_format is None:
        return HttpResponse(_("Unknown format."), status=400, content_type="text/plain")
    user = request_user(request)
    queryset: QuerySet[ConfigurationItem] = scoped(ConfigurationItem, user).order_by("name", "id")
    filterset = CIFilterSet(request.GET, queryset=queryset, request=request)
    if not filterset.is_valid():
        return HttpResponse(_("Invalid filter."), status=400, content_type="text/plain")
    customer = filterset.form.cleaned_data.get("customer")
    filters = {
        key: values if len(values) > 1 else values[0]
        for key, values in request.GET.lists()
        if key not in {"format", "page"}
    }
    export = exporting.export_cis(
        filterset.qs,
        actor=user,
        file_format=file_format,
        filters=filters,
        customer_id=customer.pk if customer is not None else None,
    )
    return exporting.http_response(export)
