"""Export CIs to CSV or XLSX with the import's columns, so that an export re-imports unchanged.

The caller passes a queryset already limited to what the user may see (``visible_to``) and
filtered; every export is written to the audit trail with its filter and row count.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from opsassure.cmdb.models import (
    CIAddress,
    CIType,
    ConfigurationItem,
    Criticality,
    Environment,
    Lifecycle,
)
from opsassure.cmdb.tabular import (
    COLUMN_KEYS,
    XLSX_CONTENT_TYPE,
    cell_text,
    escape_formula,
    header_for,
)
from opsassure.core import audit
from opsassure.core.models import AuditEvent, User

FORMATS = ("csv", "xlsx")
_CHUNK = 1000
_STREAM_BYTES = 64 * 1024


@dataclass
class ExportFile:
    filename: str
    content_type: str
    chunks: Iterable[bytes]
    rows: int


def chinese_headers() -> bool:
    """Headers follow the user's language: Chinese labels for zh, English keys otherwise."""
    return (translation.get_language() or "").startswith("zh")


def attribute_names(types: Iterable[CIType]) -> list[str]:
    names: list[str] = []
    for ci_type in types:
        for spec in ci_type.attribute_schema:
            if spec.get("name") and spec["name"] not in names:
                names.append(spec["name"])
    return names


def header_row(attributes: list[str], chinese: bool) -> list[str]:
    return [header_for(key, chinese) for key in COLUMN_KEYS] + [f"attr:{a}" for a in attributes]


# Read as plain values, a chunk at a time, with the chunk's addresses and tags in one query
# each: model instances and per-object prefetch querysets cost more than the query itself.
_VALUE_FIELDS = (
    "id",
    "name",
    "customer__code",
    "ci_type__code",
    "status",
    "environment",
    "criticality",
    "hostname",
    "primary_ip",
    "serial_number",
    "asset_tag",
    "vendor",
    "model",
    "owner_team__code",
    "warranty_end",
    "purchase_date",
    "cost",
    "description",
    "monitoring_endpoint",
    "attributes",
)


def _row(
    record: dict[str, Any], addresses: list[str], tags: list[str], attributes: list[str]
) -> list[Any]:
    primary = record["primary_ip"]
    ordered = ([primary] if primary else []) + sorted(a for a in addresses if a != primary)
    values: dict[str, Any] = {
        **record,
        "customer": record["customer__code"] or "",
        "type": record["ci_type__code"],
        "owner_team": record["owner_team__code"] or "",
        "ip_addresses": ", ".join(ordered),
        "tags": "; ".join(sorted(tags)),
    }
    stored = record["attributes"] or {}
    return [values[key] for key in COLUMN_KEYS] + [stored.get(a) for a in attributes]


def _chunk_rows(batch: list[dict[str, Any]], attributes: list[str]) -> Iterator[list[Any]]:
    ids = [record["id"] for record in batch]
    addresses: dict[int, list[str]] = defaultdict(list)
    tags: dict[int, list[str]] = defaultdict(list)
    for ci_id, address in CIAddress.objects.filter(ci_id__in=ids).values_list("ci_id", "address"):
        addresses[ci_id].append(address)
    through: Any = ConfigurationItem.tags.through
    for ci_id, name in through.objects.filter(configurationitem_id__in=ids).values_list(
        "configurationitem_id", "tag__name"
    ):
        tags[ci_id].append(name)
    for record in batch:
        yield _row(record, addresses[record["id"]], tags[record["id"]], attributes)


def ci_rows(queryset: QuerySet[ConfigurationItem], attributes: list[str]) -> Iterator[list[Any]]:
    """One list of values per CI, in the column order of ``header_row``."""
    batch: list[dict[str, Any]] = []
    for record in queryset.values(*_VALUE_FIELDS).iterator(chunk_size=_CHUNK):
        batch.append(record)
        if len(batch) >= _CHUNK:
            yield from _chunk_rows(batch, attributes)
            batch = []
    if batch:
        yield from _chunk_rows(batch, attributes)


def _csv_chunks(rows: Iterable[list[Any]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # BOM: Excel then reads the file as UTF-8
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
        if buffer.tell() >= _STREAM_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _csv_value(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return escape_formula(value)
    return cell_text(value)


def _xlsx_cells(sheet: Any, row: list[Any]) -> list[Any]:
    """Text stays text (never a formula) and loses the control characters XML cannot hold."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cells: list[Any] = []
    for value in row:
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(value)
    return cells


def _xlsx_chunks(sheets: list[tuple[str, Iterable[list[Any]]]]) -> Iterator[bytes]:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(_xlsx_cells(sheet, row))
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(_STREAM_BYTES):
            yield chunk


def _stamp() -> str:
    return timezone.now().strftime("%Y%m%d-%H%M%S")


def export_cis(
    queryset: QuerySet[ConfigurationItem],
    *,
    actor: User,
    file_format: str,
    filters: dict[str, Any],
    customer_id: int | None = None,
) -> ExportFile:
    """CSV or XLSX of ``queryset`` (already scoped and filtered); records an "export" event."""
    if file_format not in FORMATS:
        raise ValueError(file_format)
    count = queryset.count()
    audit.record(
        AuditEvent.Action.EXPORT,
        object_type=ConfigurationItem._meta.label_lower,
        object_repr=_("Configuration items"),
        customer_id=customer_id if customer_id is not None else actor.customer_id,
        changes={"filter": filters, "format": file_format, "rows": count},
    )
    types = CIType.objects.filter(pk__in=queryset.values("ci_type_id")).order_by(
        "sort_order", "code"
    )
    attributes = attribute_names(types)
    header = header_row(attributes, chinese_headers())
    rows = _prepend(header, ci_rows(queryset, attributes))
    if file_format == "csv":
        return ExportFile(
            f"cis-{_stamp()}.csv", "text/csv; charset=utf-8", _csv_chunks(rows), count
        )
    return ExportFile(
        f"cis-{_stamp()}.xlsx", XLSX_CONTENT_TYPE, _xlsx_chunks([("CIs", rows)]), count
    )


def _prepend(first: list[Any], rest: Iterable[list[Any]]) -> Iterator[list[Any]]:
    yield first
    yield from rest


def _help_rows(types: list[CIType]) -> Iterator[list[Any]]:
    chinese = chinese_headers()
    yield [_("Column"), _("Values")]
    yield [header_for("name", chinese), _("Required. With the customer, identifies the CI.")]
    yield [header_for("customer", chinese), _("Customer code.")]
    yield [header_for("type", chinese), ", ".join(t.code for t in types)]
    yield [header_for("status", chinese), ", ".join(str(v) for v in Lifecycle.values)]
    yield [header_for("environment", chinese), ", ".join(str(v) for v in Environment.values)]
    yield [header_for("criticality", chinese), ", ".join(str(v) for v in Criticality.values)]
    yield [
        header_for("ip_addresses", chinese),
        _("Separated by , ; or spaces; the first is primary."),
    ]
    yield [header_for("owner_team", chinese), _("Team code.")]
    yield [header_for("warranty_end", chinese), "YYYY-MM-DD"]
    yield [header_for("purchase_date", chinese), "YYYY-MM-DD"]
    yield [header_for("tags", chinese), _("Separated by ;")]
    for ci_type in types:
        for spec in ci_type.attribute_schema:
            choices = ", ".join(spec.get("choices", []))
            required = _("required") if spec.get("required") else ""
            yield [
                f"attr:{spec['name']}",
                " · ".join(
                    part
                    for part in (ci_type.code, str(spec.get("label", "")), required, choices)
                    if part
                ),
            ]


def template(file_format: str, ci_type: CIType | None = None) -> ExportFile:
    """An empty file with the headers (and the type's attribute columns), to fill in."""
    if file_format not in FORMATS:
        raise ValueError(file_format)
    attributes = attribute_names([ci_type]) if ci_type is not None else []
    header = header_row(attributes, chinese_headers())
    suffix = f"-{ci_type.code}" if ci_type is not None else ""
    if file_format == "csv":
        return ExportFile(
            f"ci-import-template{suffix}.csv", "text/csv; charset=utf-8", _csv_chunks([header]), 0
        )
    types = (
        [ci_type] if ci_type is not None else list(CIType.objects.order_by("sort_order", "code"))
    )
    return ExportFile(
        f"ci-import-template{suffix}.xlsx",
        XLSX_CONTENT_TYPE,
        _xlsx_chunks([("CIs", [header]), (_("Help"), _help_rows(types))]),
        0,
    )


def http_response(export: ExportFile) -> StreamingHttpResponse:
    response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["X-Row-Count"] = str(export.rows)
    return response
