"""Inserting many rows at once: COPY on PostgreSQL, ``bulk_create`` on other databases.

Django's ``bulk_create`` on PostgreSQL sends each column as one array (``INSERT ... SELECT * FROM
UNNEST(...)``); psycopg quotes every element of a ``jsonb[]`` array with a regular expression, and for the
JSON columns of thousands of instances that quoting costs several times the fetch of the same data. COPY
sends the rows as text, written by psycopg's C code, and the server parses each JSON value once. The ids
are taken from the table's sequence first, so that the caller knows every new row's pk, as with
``bulk_create``.

Rows are mappings from column (``Field.attname``) to a Python value as the ORM would hold it, and
``common`` the values every row shares; a column left out gets the field's default. Values go to the
database as they are, apart from JSON, which is serialized here: no per-value ``get_db_prep_save``, which is
where a large ``bulk_create`` spends its time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import orjson
from django.db import connections, models, router

__all__ = ["BATCH", "insert"]

BATCH = 500  # rows per bulk statement off PostgreSQL: keeps SQLite under its bound on query parameters


def insert(
    model: type[models.Model], rows: Sequence[Mapping[str, Any]], common: Mapping[str, Any] | None = None
) -> list[int]:
    """Insert ``rows`` into ``model``'s table; return their new pks, in order. ``common`` holds the values
    every row shares (its cluster, the time of the sync), so that callers need not copy them into each row."""
    if not rows:
        return []
    common = common or {}
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        objs = [model(**common, **row) for row in rows]
        model._default_manager.bulk_create(objs, batch_size=BATCH)
        return [obj.pk for obj in objs]
    return _copy(connection, model, rows, common)


def _copy(
    connection: Any, model: type[models.Model], rows: Sequence[Mapping[str, Any]], common: Mapping[str, Any]
) -> list[int]:
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [f for f in meta.concrete_fields if f is not pk]
    # Columns in the order COPY receives them: the pk, those each row has (as the first row has them), then
    # those shared by every row (``common``, else the field's default), converted once.
    per_row = [f for f in fields if f.attname in rows[0] and f.attname not in common]
    shared = [f for f in fields if f not in per_row]
    constants = tuple(
        _value(f, common[f.attname] if f.attname in common else f.get_default()) for f in shared
    )
    json_at = [i for i, f in enumerate(per_row) if _is_json(f)]
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in [pk, *per_row, *shared])
    get = itemgetter(*(f.attname for f in per_row)) if per_row else None
    with connection.cursor() as cursor:
        # The sequence is looked up once: inside the SELECT below, pg_get_serial_sequence() would run for
        # every row, and take ten times as long as nextval() itself.
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [meta.db_table, pk.column])
        (sequence,) = cursor.fetchone()
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, len(rows)])
        pks = [int(row[0]) for row in cursor.fetchall()]
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({names}) FROM STDIN") as copy:
            for pk_value, row in zip(pks, rows, strict=True):
                values = _row_values(row, get, per_row)
                for i in json_at:
                    if values[i] is not None:
                        values[i] = orjson.dumps(values[i]).decode()
                copy.write_row((pk_value, *values, *constants))
    return pks


def _row_values(
    row: Mapping[str, Any], get: Callable[[Mapping[str, Any]], Any] | None, per_row: Sequence[Any]
) -> list[Any]:
    if get is None:
        return []
    try:
        values = get(row)
    except KeyError:  # a row without a column the first one has: that column's default
        return [row.get(f.attname, f.get_default()) for f in per_row]
    return list(values) if len(per_row) > 1 else [values]


def _is_json(field: Any) -> bool:
    return bool(field.get_internal_type() == "JSONField")


def _value(field: Any, value: Any) -> Any:
    """A value as COPY's text takes it: JSON serialized here, anything else as psycopg writes it."""
    if _is_json(field) and value is not None:
        return orjson.dumps(value).decode()
    return value
