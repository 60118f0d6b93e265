"""CI import and export over the API.

- ``POST /api/v1/cmdb/imports/`` (multipart: ``file``, ``dry_run``, ``customer``, ``ci_type``):
  200 with the report after a dry run, 201 after an import, 400 ``import_invalid`` listing every
  row problem (nothing is written), 413 over the size limit.
- ``GET /api/v1/cmdb/exports/cis/?format=csv|xlsx&<CI list filters>``: the visible, filtered CIs
  with the import's columns. ``format`` names the file format here (it is not DRF's renderer
  switch); the other parameters are those of ``GET /api/v1/cmdb/cis/``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from opsassure.cmdb.exporting import FORMATS, export_cis, http_response
from opsassure.cmdb.filtersets import CIFilterSet
from opsassure.cmdb.importing import MAX_FILE_BYTES, ImportTooLargeError, import_file
from opsassure.cmdb.models import CIType, ConfigurationItem
from opsassure.cmdb.tabular import XLSX_CONTENT_TYPE
from opsassure.core.api.base import ScopedViewSetMixin
from opsassure.core.auth import request_user
from opsassure.core.models import Customer
from opsassure.core.tenancy import scoped


class _DryRunField(serializers.BooleanField):
    # A form field left out means "dry run", not False: importing must be asked for.
    default_empty_html = True


class ImportRequestSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="CSV (UTF-8 or GBK/GB18030, , ; or tab) or XLSX.")
    dry_run = _DryRunField(default=True, help_text="true (default): validate only.")
    customer = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="Customer code for every row."
    )
    ci_type = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="CI type code for every row."
    )


class ImportRowErrorSerializer(serializers.Serializer[Any]):
    row = serializers.IntegerField(allow_null=True, help_text="Row number; 1 is the header.")
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class ImportReportSerializer(serializers.Serializer[Any]):
    encoding = serializers.CharField(allow_null=True, help_text="Detected CSV encoding.")
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    # The metaclass moves declared fields off the class, so these names shadow nothing.
    errors = ImportRowErrorSerializer(many=True)  # type: ignore[assignment]
    dry_run = serializers.BooleanField()


class _ImportErrorFieldsSerializer(serializers.Serializer[Any]):
    rows = ImportRowErrorSerializer(many=True)


class _ImportErrorBodySerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = _ImportErrorFieldsSerializer()  # type: ignore[assignment]


class ImportErrorSerializer(serializers.Serializer[Any]):
    error = _ImportErrorBodySerializer()


def _error(status_code: int, code: str, message: str, rows: list[Any] | None = None) -> Response:
    fields: dict[str, Any] = {} if rows is None else {"rows": rows}
    return Response(
        {"error": {"code": code, "message": message, "fields": fields}}, status=status_code
    )


def _too_large() -> Response:
    return _error(
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        "request_too_large",
        _("The file is larger than the limit of %(mb)d MB.") % {"mb": MAX_FILE_BYTES // 2**20},
    )


class CIImportViewSet(ScopedViewSetMixin, viewsets.GenericViewSet[ConfigurationItem]):
    """Import CIs from a CSV or XLSX file (needs ``cmdb.add_configurationitem``)."""

    queryset = ConfigurationItem.objects.order_by("pk")
    serializer_class = ImportRequestSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": ImportRequestSerializer},
        responses={
            200: OpenApiResponse(ImportReportSerializer, description="Dry run: nothing written"),
            201: OpenApiResponse(ImportReportSerializer, description="Imported"),
            400: OpenApiResponse(ImportErrorSerializer, description="Nothing written"),
            413: OpenApiResponse(ImportErrorSerializer, description="File too large"),
        },
    )
    def create(self, request: Request) -> Response:
        """Validate (dry run) or import a file of CIs: all rows or none."""
        payload = ImportRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data: dict[str, Any] = payload.validated_data
        user = request_user(request)
        customer = None
        if data.get("customer"):
            customer = scoped(Customer, user).filter(code=data["customer"]).first()
            if customer is None:
                raise serializers.ValidationError({"customer": [_("Unknown customer.")]})
        ci_type = None
        if data.get("ci_type"):
            ci_type = CIType.objects.filter(code=data["ci_type"]).first()
            if ci_type is None:
                raise serializers.ValidationError({"ci_type": [_("Unknown type.")]})
        upload = data["file"]
        if upload.size is not None and upload.size > MAX_FILE_BYTES:
            return _too_large()
        try:
            report = import_file(
                actor=user,
                data=upload.read(),
                filename=upload.name or "",
                dry_run=data["dry_run"],
                customer=customer,
                ci_type=ci_type,
            )
        except ImportTooLargeError:
            return _too_large()
        if report.errors:
            message = ngettext(
                "%(n)d problem found; nothing was imported.",
                "%(n)d problems found; nothing was imported.",
                len(report.errors),
            ) % {"n": len(report.errors)}
            if report.encoding:
                message += " " + _("Detected encoding: %(encoding)s.") % {
                    "encoding": report.encoding
                }
            return _error(status.HTTP_400_BAD_REQUEST, "import_invalid", message, report.errors)
        code = status.HTTP_200_OK if report.dry_run else status.HTTP_201_CREATED
        return Response(ImportReportSerializer(report.as_dict()).data, status=code)


class _FileFormatQuery:
    URL_FORMAT_OVERRIDE = None


class _IgnoreFormatQuery(DefaultContentNegotiation):
    """Here ``?format=`` chooses the file (csv/xlsx); errors are still rendered as JSON."""

    settings = _FileFormatQuery()  # type: ignore[assignment]


class CIExportViewSet(ScopedViewSetMixin, viewsets.GenericViewSet[ConfigurationItem]):
    """Export the visible CIs, filtered like the CI list (needs ``cmdb.view_configurationitem``)."""

    queryset = ConfigurationItem.objects.order_by("name", "id")
    filterset_class = CIFilterSet
    ordering_fields = ["name", "status", "criticality", "warranty_end", "updated_at"]
    search_fields: list[str] = []
    pagination_class = None
    content_negotiation_class = _IgnoreFormatQuery

    @extend_schema(
        filters=True,
        parameters=[
            OpenApiParameter(
                "format", str, enum=list(FORMATS), default="csv", description="File format"
            )
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="UTF-8 with BOM"),
            (200, XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY),
            400: OpenApiResponse(description="Invalid filter or format"),
        },
    )
    @action(detail=False, methods=["get"], url_path="cis")
    def cis(self, request: Request) -> Any:
        """The filtered CI list as CSV or XLSX, in the import's columns (audited)."""
        file_format = request.query_params.get("format") or "csv"
        if file_format not in FORMATS:
            raise serializers.ValidationError({"format": [_("Use csv or xlsx.")]})
        queryset = self.filter_queryset(self.get_queryset())
        user = request_user(request)
        filters = {
            key: values if len(values) > 1 else values[0]
            for key, values in request.query_params.lists()
            if key != "format"
        }
        raw_customer = request.query_params.get("customer", "")
        customer_id = int(raw_customer) if raw_customer.isdigit() else None
        export = export_cis(
            queryset,
            actor=user,
            file_format=file_format,
            filters=filters,
            customer_id=customer_id,
        )
        return http_response(export)
