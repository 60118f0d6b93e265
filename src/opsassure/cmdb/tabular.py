"""The CI spreadsheet format shared by import, export and the template: columns and file reading.

One sheet (the first of an XLSX) or one CSV; the first row names the columns. A column is named
by its English key or its Chinese header (``name`` / ``名称``), case and spaces around it
ignored; ``attr:<name>`` (or ``属性:<name>``) columns carry the type's attributes. The headers
are part of the file format, like the keys, so they are fixed here and not translated.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
ATTRIBUTE_PREFIXES = ("attr:", "属性:")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls


@dataclass(frozen=True)
class Column:
    key: str
    chinese: str
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("name", "名称"),
    Column("customer", "客户"),
    Column("type", "类型", ("ci_type",)),
    Column("status", "状态", ("lifecycle", "生命周期")),
    Column("environment", "环境"),
    Column("criticality", "重要性"),
    Column("hostname", "主机名"),
    Column("ip_addresses", "IP地址", ("ip", "ips", "ip_address", "ip 地址")),
    Column("serial_number", "序列号"),
    Column("asset_tag", "资产编号"),
    Column("vendor", "厂商"),
    Column("model", "型号"),
    Column("owner_team", "负责团队"),
    Column("warranty_end", "保修到期"),
    Column("purchase_date", "采购日期"),
    Column("cost", "成本"),
    Column("tags", "标签"),
    Column("description", "描述"),
    Column("monitoring_endpoint", "监控端点"),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)


def _normalise(header: Any) -> str:
    text = "" if header is None else str(header)
    text = text.replace("\ufeff", "").replace("：", ":").strip().rstrip("*").strip().lower()
    return re.sub(r"\s+", " ", text)


_LOOKUP: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.key, _column.chinese, *_column.aliases):
        _LOOKUP[_normalise(_name)] = _column.key


def header_for(key: str, chinese: bool) -> str:
    """The header written for a column key (export, template)."""
    if key.startswith(ATTRIBUTE_PREFIXES[0]):
        return key
    column = next(c for c in COLUMNS if c.key == key)
    return column.chinese if chinese else column.key


@dataclass
class Header:
    """Where each column sits, as found in the first row."""

    labels: list[str]  # header text per position, as written in the file
    fields: dict[str, int] = field(default_factory=dict)  # column key -> position
    attributes: dict[str, int] = field(default_factory=dict)  # attribute name -> position
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, message)

    def label(self, key: str) -> str:
        """The file's own header for a column key or ``attr:<name>`` (for error messages)."""
        if key.startswith(ATTRIBUTE_PREFIXES[0]):
            position = self.attributes.get(key[len(ATTRIBUTE_PREFIXES[0]) :])
        else:
            position = self.fields.get(key)
        return self.labels[position] if position is not None else key


def parse_header(cells: Sequence[Any]) -> Header:
    """Map the header row to column keys; unknown and repeated columns are problems."""
    header = Header(labels=["" if c is None else str(c).strip() for c in cells])
    for position, raw in enumerate(cells):
        text = _normalise(raw)
        if not text:
            continue
        label = header.labels[position]
        prefix = next((p for p in ATTRIBUTE_PREFIXES if text.startswith(p)), None)
        if prefix is not None:
            name = text[len(prefix) :].strip()
            target, key = header.attributes, name
            if not name:
                header.problems.append((label, _("An attribute column needs a name.")))
                continue
        elif text in _LOOKUP:
            target, key = header.fields, _LOOKUP[text]
        else:
            header.problems.append((label, _("Unknown column.")))
            continue
        if key in target:
            header.problems.append(
                (label, _("The column appears twice (also column %(n)d).") % {"n": target[key] + 1})
            )
            continue
        target[key] = position
    return header


class UnreadableFileError(Exception):
    """The file cannot be read as a table (encoding, corrupted, too many rows)."""

    def __init__(self, message: str, encoding: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.encoding = encoding


class FileTooLargeError(Exception):
    """The file is over ``MAX_FILE_BYTES`` (answered with 413)."""


@dataclass
class Table:
    encoding: str | None  # None for XLSX
    header: list[Any]
    rows: list[tuple[int, list[Any]]]  # (row number as the spreadsheet shows it, cells)


def is_xlsx_name(filename: str) -> bool:
    return filename.lower().endswith((".xlsx", ".xlsm"))


def read_table(data: bytes, filename: str) -> Table:
    """Decode an uploaded CSV or XLSX into a header and its non-empty rows."""
    if len(data) > MAX_FILE_BYTES:
        raise FileTooLargeError
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data)
    if data.startswith(_OLE_MAGIC) or filename.lower().endswith(".xls"):
        raise UnreadableFileError(
            _("The old .xls format is not supported: save the file as .xlsx or CSV.")
        )
    if is_xlsx_name(filename):
        raise UnreadableFileError(_("The file is not a valid XLSX workbook (it may be damaged)."))
    encoding, text = decode_text(data)
    return _read_csv(text, encoding)


def decode_text(data: bytes) -> tuple[str, str]:
    """(encoding, text): UTF-8 with or without BOM first, else GB18030 (a superset of GBK)."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8-sig", data[len(codecs.BOM_UTF8) :], "utf-8")]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export.
        candidates = [("utf-16", data, "utf-16")]
    else:
        candidates = [("utf-8", data, "utf-8"), ("gb18030", data, "gb18030")]
    for name, payload, codec in candidates:
        try:
            text = payload.decode(codec)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return name, text
    raise UnreadableFileError(_("The file could not be decoded as UTF-8 or GBK (GB18030) text."))


def _delimiter(first_line: str) -> str:
    """Comma, semicolon or tab: whichever separates the header (names never contain them)."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(text: str, encoding: str) -> Table:
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    header: list[Any] | None = None
    rows: list[tuple[int, list[Any]]] = []
    try:
        # Rows are numbered by record, as a spreadsheet shows them (a quoted cell may span lines).
        for number, cells in enumerate(reader, start=1):
            if header is None:
                header = list(cells)
                continue
            if any(cell.strip() for cell in cells):
                rows.append((number, list(cells)))
                if len(rows) > MAX_ROWS:
                    raise UnreadableFileError(_too_many_rows(), encoding)
    except csv.Error as error:
        raise UnreadableFileError(
            _("The CSV is malformed near line %(line)d: %(error)s")
            % {"line": reader.line_num, "error": error},
            encoding,
        ) from error
    if header is None or not any(str(cell).strip() for cell in header):
        raise UnreadableFileError(
            _("The file is empty: the first row must name the columns."), encoding
        )
    return Table(encoding=encoding, header=header, rows=rows)


def _too_many_rows() -> str:
    return _("The file has more than %(n)s rows; split it into smaller files.") % {
        "n": f"{MAX_ROWS:,}"
    }


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    header: list[Any] | None = None
    rows: list[tuple[int, list[Any]]] = []
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            if not workbook.worksheets:
                raise UnreadableFileError(_("The workbook has no sheet."))
            sheet = workbook.worksheets[0]
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = list(values)
                if header is None:
                    header = cells
                    continue
                if any(_filled(cell) for cell in cells):
                    rows.append((number, cells))
                    if len(rows) > MAX_ROWS:
                        raise UnreadableFileError(_too_many_rows())
        finally:
            workbook.close()
    except UnreadableFileError:
        raise
    except Exception as error:
        # openpyxl raises many kinds of errors (BadZipFile, KeyError, ValueError, XML errors…)
        # on damaged or foreign zip files; every one of them means "not a readable workbook".
        raise UnreadableFileError(
            _("The file is not a valid XLSX workbook (it may be damaged).")
        ) from error
    if header is None or not any(_filled(cell) for cell in header):
        raise UnreadableFileError(_("The file is empty: the first row must name the columns."))
    return Table(encoding=None, header=header, rows=rows)


def _filled(cell: Any) -> bool:
    return cell is not None and (not isinstance(cell, str) or bool(cell.strip()))


# A CSV cell starting with one of these is a formula to Excel. Exports put an apostrophe in
# front (Excel's own "this is text" mark); imports take it off again.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def unescape_formula(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS) else text


def cell_text(value: Any) -> str:
    """A cell as text: numbers Excel made of codes ("12345.0") come back as "12345"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return unescape_formula(str(value).strip())
