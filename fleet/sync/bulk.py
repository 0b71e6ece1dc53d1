"""Inserting many rows at once: COPY on PostgreSQL, ``bulk_create`` on other databases.

Django's ``bulk_create`` on PostgreSQL sends each column as one array (``INSERT ... SELECT * FROM
UNNEST(...)``); psycopg quotes every element of a ``jsonb[]`` array with a regular expression, and for the
JSON columns of thousands of instances that quoting costs several times the fetch of the same data. COPY
sends the rows as text, written by psycopg's C code, and the server parses each JSON value once. The ids
are taken from the table's sequence first, so that the caller knows every new row's pk, as with
``bulk_create``.

Rows are mappings from column (``Field.attname``) to a Python value as the ORM would hold it; a column
left out gets the field's default. Values go to the database as they are, apart from JSON, which is
serialized here: no per-value ``get_db_prep_save``, which is where a large ``bulk_create`` spends its time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
from django.db import connections, models, router

__all__ = ["BATCH", "insert"]

BATCH = 500  # rows per bulk statement off PostgreSQL: keeps SQLite under its bound on query parameters


def insert(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``model``'s table; return their new pks, in order."""
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        objs = [model(**row) for row in rows]
        model._default_manager.bulk_create(objs, batch_size=BATCH)
        return [obj.pk for obj in objs]
    return _copy(connection, model, rows)


def _copy(connection: Any, model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> list[int]:
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [f for f in meta.concrete_fields if f is not pk]
    json_columns = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
    defaults = {f.attname: f.get_default() for f in fields}
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    names = ", ".join(quote(f.column) for f in [pk, *fields])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk.column, len(rows)],
        )
        pks = [int(row[0]) for row in cursor.fetchall()]
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in _rows(pks, rows, defaults, json_columns):
                copy.write_row(row)
    return pks


def _rows(
    pks: Sequence[int],
    rows: Sequence[Mapping[str, Any]],
    defaults: Mapping[str, Any],
    json_columns: set[str],
) -> Iterator[tuple[Any, ...]]:
    for pk, row in zip(pks, rows, strict=True):
        values: list[Any] = [pk]
        for column, default in defaults.items():
            value = row.get(column, default)
            if column in json_columns and value is not None:
                value = orjson.dumps(value).decode()
            values.append(value)
        yield tuple(values)
