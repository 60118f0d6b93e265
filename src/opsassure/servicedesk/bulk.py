"""One UPDATE for many rows, each with its own values (the breach sweep's batches).

Django's ``bulk_update`` builds a ``Case(When(pk=…))`` expression tree per field and
resolves every node: for a sweep batch of 500 clocks that costs more than the rest of the
batch. This writes the same statement as plain SQL with bound parameters
(``SET col = CASE id WHEN %s THEN %s … END``), optionally guarded per row by ``fence``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model


def update_rows(
    model: type[Model],
    rows: Sequence[Model],
    fields: Sequence[str],
    *,
    fenced: bool = False,
    extra: dict[str, Any] | None = None,
) -> int:
    """Write ``fields`` of ``rows`` (by primary key) in one UPDATE; returns the rows changed.

    ``fenced``: only rows whose ``fence`` is still the row object's, and ``fence + 1`` is
    written with them (a claim). ``extra``: column conditions every row must also meet.
    """
    if not rows:
        return 0
    quote = connection.ops.quote_name
    meta = model._meta
    pk = quote(meta.pk.column)
    typed = connection.vendor == "postgresql"  # a CASE of NULLs only needs a type there
    sets: list[str] = []
    params: list[Any] = []
    for name in fields:
        field = meta.get_field(name)
        assert isinstance(field, Field)  # a concrete column, not a relation's reverse side
        column = str(field.column)
        value_sql = f"CAST(%s AS {field.db_type(connection)})" if typed else "%s"
        whens = " ".join([f"WHEN %s THEN {value_sql}"] * len(rows))
        sets.append(f"{quote(column)} = CASE {pk} {whens} END")
        for row in rows:
            params += [row.pk, field.get_db_prep_save(getattr(row, name), connection)]
    conditions: list[str] = []
    for column, value in (extra or {}).items():
        conditions.append(f"{quote(column)} = %s")
        params.append(value)
    if fenced:
        sets.append(f"{quote('fence')} = {quote('fence')} + 1")
        conditions.append(
            "(" + " OR ".join([f"({pk} = %s AND {quote('fence')} = %s)"] * len(rows)) + ")"
        )
        for row in rows:
            params += [row.pk, row.fence]  # type: ignore[attr-defined]
    else:
        conditions.append(f"{pk} IN ({', '.join(['%s'] * len(rows))})")
        params += [row.pk for row in rows]
    # Identifiers come from the model, every value is a bound parameter.
    sql = f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} WHERE {' AND '.join(conditions)}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
