"""Building import files and counting what an import wrote."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import Permission
from openpyxl import Workbook, load_workbook

from opsassure.cmdb.models import CIAddress, CIChange, ConfigurationItem, Tag
from opsassure.core.models import AuditEvent, User
from tests.conftest import World, make_user

HEADER = ["name", "customer", "type", "status", "ip_addresses", "tags", "attr:cpu_count"]


def csv_bytes(
    rows: Sequence[Sequence[Any]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    bom: bool = False,
) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return (codecs.BOM_UTF8 if bom else b"") + buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data[len(codecs.BOM_UTF8) :].decode("utf-8"))))


def read_xlsx(data: bytes, sheet: int = 0) -> list[list[Any]]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return [list(row) for row in workbook.worksheets[sheet].iter_rows(values_only=True)]


def written() -> dict[str, int]:
    """Row counts of everything an import may write."""
    return {
        "cis": ConfigurationItem.objects.count(),
        "changes": CIChange.objects.count(),
        "audit": AuditEvent.objects.count(),
        "addresses": CIAddress.objects.count(),
        "tags": Tag.objects.count(),
        "tag_links": ConfigurationItem.tags.through.objects.count(),
    }


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def customer_importer(world: World) -> User:
    """A user of customer A allowed to import (the customer roles may not by default)."""
    user = make_user("a_importer", "customer_user", customer=world.customer_a)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["add_configurationitem", "change_configurationitem"]
        )
    )
    return User.objects.get(pk=user.pk)
