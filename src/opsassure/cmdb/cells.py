"""Reading the values of imported cells: choices, dates, numbers, lists, attributes.

Cells arrive as text (CSV) or typed (XLSX: numbers, dates, booleans); each parser accepts both.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils import translation

from opsassure.cmdb.models import Criticality, Environment, Lifecycle
from opsassure.cmdb.tabular import cell_text, unescape_formula

# Words people write in Chinese sheets, besides the codes and the English/Chinese labels.
_CHOICE_ALIASES: dict[Any, tuple[str, ...]] = {
    Lifecycle.PLANNED: ("规划", "计划", "计划中"),
    Lifecycle.ORDERED: ("已订购", "订购", "采购中"),
    Lifecycle.IN_STOCK: ("库存", "在库", "库存中"),
    Lifecycle.IN_USE: ("在用", "使用中", "运行中"),
    Lifecycle.MAINTENANCE: ("维护", "维护中", "维修", "维修中"),
    Lifecycle.RETIRED: ("退役", "已退役", "停用"),
    Lifecycle.DISPOSED: ("报废", "已报废", "已处置"),
    Environment.PRODUCTION: ("生产", "生产环境"),
    Environment.TEST: ("测试", "测试环境"),
    Environment.DEVELOPMENT: ("开发", "开发环境"),
    Environment.DR: ("灾备", "容灾", "灾备环境"),
    Criticality.CRITICAL: ("关键", "核心"),
    Criticality.HIGH: ("高",),
    Criticality.MEDIUM: ("中", "一般"),
    Criticality.LOW: ("低",),
}
CHOICE_COLUMNS: dict[str, type[models.Choices]] = {
    "status": Lifecycle,
    "environment": Environment,
    "criticality": Criticality,
}


def choice_table(choices: type[models.Choices]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for member in choices:
        names = {str(member.value), *_CHOICE_ALIASES.get(member, ())}
        for language in ("en", "zh-hans"):
            with translation.override(language):
                names.add(str(member.label))
        for name in names:
            table[name.strip().lower()] = member.value
    return table


def split_addresses(text: str) -> list[str]:
    return [part for part in re.split(r"[,;，；\s]+", text) if part]


def split_tags(text: str) -> list[str]:
    return sorted({part.strip() for part in re.split(r"[;；]", text) if part.strip()})


def attribute_value(value: Any) -> Any:
    """A cell as the schema's coercion expects it; None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    return unescape_formula(value.strip()) if isinstance(value, str) else value


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]00:00(?::00)?)?$")


def parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value)
    if not text:
        return None
    match = _DATE.match(text)
    if match is None:
        raise ValueError(text)
    year, month, day = (int(part) for part in match.groups())
    return dt.date(year, month, day)


def parse_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        number = Decimal(str(value))
    else:
        text = cell_text(value).replace(",", "").replace("¥", "").replace("￥", "").strip()
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation as error:
            raise ValueError(text) from error
    if not number.is_finite():
        raise ValueError(value)
    return number
