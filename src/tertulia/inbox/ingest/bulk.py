"""Writing many rows at once, cheaply: what `bulk_create` and `bulk_update` do, for less.

The database work of a batch is small (bench/inbox_ingest.py: about a tenth of the time); what
cost most was Django building the statements. `bulk_update` writes one UPDATE with a
`CASE WHEN id = ... THEN ...` per field and row, and resolving those expressions took about a
millisecond per conversation; `bulk_create` spends most of its time assembling placeholders.
These helpers send the same values (each converted by its own field, as Django does, so what is
stored is identical) in plain parametrised statements: a multi-row INSERT ... RETURNING id, and
one UPDATE per row through `executemany` (in-process on SQLite, one pipeline on psycopg).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper

M = TypeVar("M", bound=models.Model)


def _column(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or field not in model._meta.concrete_fields or field.primary_key:
        raise ValueError(f"{model.__name__}.{name} is not a column that can be updated")
    return field


def _prepared(value: Any, field: models.Field[Any, Any], connection: BaseDatabaseWrapper) -> Any:
    """The value as the database takes it, converted by the field as Django's compiler does."""
    if hasattr(value, "resolve_expression"):  # F(), Now()...: Django's own bulk methods handle those
        raise ValueError(f"{field.name}: expressions are not supported here")
    return field.get_db_prep_save(value, connection)


def insert_rows(objects: Sequence[M]) -> list[M]:
    """Insert new `objects` (of one model with an automatic id): `bulk_create(objects)`, ids set.

    As `bulk_create`: no signals, `auto_now_add`/`auto_now` fields set, related objects checked.
    The ids come back in the order of the rows, which both backends guarantee for one INSERT
    (Django's `bulk_create` relies on the same).
    """
    if not objects:
        return []
    model = type(objects[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and not f.generated]
    rows = []
    for obj in objects:
        if obj.pk is not None:
            raise ValueError("insert_rows is for new rows; this one has an id")
        # Django's own check that related objects are saved (private, so not in the type stubs).
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]  # private Django API, what bulk_create calls
        rows.append([_prepared(f.pre_save(obj, True), f, connection) for f in fields])
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    head = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "
    tail = f" RETURNING {quote(model._meta.pk.column)}"
    unnest = _unnest(connection, fields)
    size = len(rows) if unnest else max(connection.ops.bulk_batch_size(fields, objects), 1)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            if unnest:
                cursor.execute(head + unnest + tail, [list(column) for column in zip(*chunk, strict=True)])
            else:
                values = ", ".join([f"({', '.join(['%s'] * len(fields))})"] * len(chunk))
                cursor.execute(f"{head}VALUES {values}{tail}", [v for row in chunk for v in row])
            for obj, (pk,) in zip(objects[start : start + size], cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = alias
    return list(objects)


def _unnest(connection: BaseDatabaseWrapper, fields: Sequence[models.Field[Any, Any]]) -> str | None:
    """On PostgreSQL, the rows as one array per column, as Django's own bulk_create sends them there:
    a short statement psycopg parses once and caches, where a VALUES list of thousands of
    placeholders is parsed again every time (a fifth of the ingest's time). None: use VALUES."""
    if connection.vendor != "postgresql":
        return None
    for field in fields:
        target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]  # only relations have it
        if hasattr(field, "get_placeholder") or target.get_internal_type() not in connection.data_types:
            return None
    # The types without their length (varchar, not varchar(255)), as Django does: nothing truncated.
    types = [str(field.db_type(connection)).split("(")[0] for field in fields]
    arrays = ", ".join(f"(%s)::{db_type}[]" for db_type in types)
    return f"SELECT * FROM UNNEST({arrays})"  # noqa: S608  (types from the model; values are parameters)


def update_fields(objects: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Save `fields` of `objects` (saved rows of one model): what `bulk_update(objects, fields)` does.

    As `bulk_update`: no signals, no `auto_now` field set (callers set what changes). Rows are
    written in id order, so two transactions touching the same rows lock them in the same order
    (no deadlock on PostgreSQL).
    """
    if not objects:
        return
    model = type(objects[0])
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    targets = [_column(model, name) for name in dict.fromkeys(fields)]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in targets)
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608  (names from the model; values are parameters)
    rows = []
    for obj in sorted(objects, key=lambda obj: obj.pk):
        obj._prepare_related_fields_for_save(operation_name="bulk_update", fields=targets)  # type: ignore[attr-defined]  # private Django API, what bulk_update calls
        rows.append([*(_prepared(getattr(obj, f.attname), f, connection) for f in targets), obj.pk])
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
