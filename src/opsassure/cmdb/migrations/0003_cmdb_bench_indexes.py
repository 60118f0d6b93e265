"""Indexes found missing by bench/cmdb.py at 100,000 CIs.

* ``(name, id)``: staff see several customers plus shared rows (``customer_id IN (…) OR
  customer_id IS NULL``), which no customer-led index can serve in name order; without it
  every page of the CI list sorted the whole table.
* ``(status, environment, name)``: the same scope made "in use + DR" walk every in-use CI
  (and COUNT them) through ``(status, name)``.
* Case-insensitive prefix indexes for the search box (``name``, ``hostname``,
  ``serial_number``, ``asset_tag`` with ``istartswith``). They need vendor-specific SQL, so
  they are created here rather than declared on the model:
  - SQLite runs ``LIKE 'x%'`` (case-insensitive) on an index only if the column is indexed
    with the NOCASE collation;
  - PostgreSQL compares ``UPPER(col::text) LIKE UPPER('x%')``, which an expression index on
    ``UPPER(col::text)`` with ``text_pattern_ops`` serves whatever the database collation.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

_TABLE = "cmdb_configurationitem"
_COLUMNS = {
    "name": "cmdb_ci_name_ci_prefix_idx",
    "hostname": "cmdb_ci_hostname_ci_prefix_idx",
    "serial_number": "cmdb_ci_serial_ci_prefix_idx",
    "asset_tag": "cmdb_ci_asset_tag_ci_prefix_idx",
}


def _create(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for column, index in _COLUMNS.items():
        if vendor == "sqlite":
            expression = f'"{column}" COLLATE NOCASE'
        elif vendor == "postgresql":
            expression = f'UPPER("{column}"::text) text_pattern_ops'
        else:  # other databases: the search still works, by scanning
            continue
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{index}" ON "{_TABLE}" ({expression})')


def _drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor in {"sqlite", "postgresql"}:
        for index in _COLUMNS.values():
            schema_editor.execute(f'DROP INDEX IF EXISTS "{index}"')


class Migration(migrations.Migration):
    dependencies = [("cmdb", "0002_cmdb_discovery_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="configurationitem",
            index=models.Index(fields=["name", "id"], name="cmdb_ci_name_id_idx"),
        ),
        migrations.AddIndex(
            model_name="configurationitem",
            index=models.Index(
                fields=["status", "environment", "name"], name="cmdb_ci_status_env_name_idx"
            ),
        ),
        migrations.RunPython(_create, _drop),
    ]
