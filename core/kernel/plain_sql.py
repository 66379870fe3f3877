"""Plain INSERTs, UPDATEs, DELETEs and reads by equal columns for the hottest statements.

Django builds a statement's SQL afresh on every call (an update's ``filter().update()``
about 0.1 ms, six times the cost of running it on SQLite; an insert of a wide row 0.3 to
0.6 ms; a read of one row by key 0.5 ms), and a create makes a dozen of each. Here a
statement is built once per model and column list, each value is adapted by its field as
Django would (JSON, datetimes, UUIDs), and a row read is converted by its fields as the
ORM converts it, so SQLite and PostgreSQL see, and give back, what the ORM would. No
signals are sent (Cinderlab has none). An update sets the values given (``auto_now`` is
not applied, as ``update()`` does not); an insert writes every column as ``save()``
would, except an automatic primary key, which it does not read back.
"""

from collections.abc import Iterable, Sequence
from functools import cache

from django.db import connection, models


@cache
def _insert(model: type[models.Model]):
    """The INSERT of every concrete column but an automatic key, and those fields."""
    fields = [
        f
        for f in model._meta.local_concrete_fields
        if not (f.primary_key and isinstance(f, models.AutoField))
    ]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join("%s" for _ in fields),
    )
    return sql, fields


def _equal(fields) -> str:
    """The WHERE clause: each field's column equal to a parameter."""
    quote = connection.ops.quote_name
    return " AND ".join(f"{quote(f.column)} = %s" for f in fields)


@cache
def _select(model: type[models.Model], where: tuple[str, ...], for_update: bool = False):
    """The SELECT of every concrete column by equality on ``where`` (locking the rows if
    ``for_update`` and the database can), and per column its attribute name, its column
    expression and the converters the ORM would apply."""
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [f.get_col(meta.db_table) for f in meta.concrete_fields]
    where_fields = [meta.get_field(name) for name in where]
    sql = "SELECT {} FROM {} WHERE {}".format(
        ", ".join(quote(f.column) for f in meta.concrete_fields),
        quote(meta.db_table),
        _equal(where_fields),
    )
    if for_update and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    converted = [
        (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
        for col in columns
    ]
    return sql, [f.attname for f in meta.concrete_fields], converted, where_fields


def by_key[M: models.Model](model: type[M], where: dict, for_update: bool = False) -> M | None:
    """The row whose ``where`` columns equal these values (a unique key), or None: the
    default manager's ``filter(**where).first()`` without its manager's own filters
    (``select_for_update()`` first if ``for_update``, inside the caller's transaction)."""
    found = _read(model, where, one=True, for_update=for_update)
    return found[0] if found else None


def rows[M: models.Model](model: type[M], where: dict) -> list[M]:
    """Every row whose ``where`` columns equal these values, in no given order:
    ``filter(**where)`` without the manager's own filters or the model's ordering."""
    return _read(model, where, one=False)


def _read[M: models.Model](
    model: type[M], where: dict, one: bool, for_update: bool = False
) -> list[M]:
    sql, attnames, converted, where_fields = _select(model, tuple(where), for_update)
    params = _params([], where_fields, [], list(where.values()))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = [cursor.fetchone()] if one else cursor.fetchall()
    objs = []
    for row in found:
        if row is None:  # one asked, none found
            continue
        values = []
        for value, (col, converters) in zip(row, converted, strict=True):
            for convert in converters:
                value = convert(value, col, connection)
            values.append(value)
        objs.append(model.from_db(connection.alias, attnames, values))
    return objs


def insert(*objs: models.Model) -> None:
    """Insert these new rows of one model (``bulk_create`` without reading keys back)."""
    sql, fields = _insert(type(objs[0]))
    params = [
        [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objs
    ]
    with connection.cursor() as cursor:
        if len(params) == 1:
            cursor.execute(sql, params[0])
        else:
            cursor.executemany(sql, params)


@cache
def _update(model: type[models.Model], where: tuple[str, ...], columns: tuple[str, ...]):
    """The UPDATE, and the fields whose ``get_db_prep_*`` adapt each parameter."""
    fields = model._meta
    quote = connection.ops.quote_name
    set_fields = [fields.get_field(name) for name in columns]
    where_fields = [fields.get_field(name) for name in where]
    sql = "UPDATE {} SET {} WHERE {}".format(
        quote(model._meta.db_table),
        ", ".join(f"{quote(f.column)} = %s" for f in set_fields),
        _equal(where_fields),
    )
    return sql, set_fields, where_fields


def _params(set_fields, where_fields, values: Sequence, keys: Sequence) -> list:
    if any(key is None for key in keys):
        raise ValueError("a condition on NULL matches no row; use the ORM for IS NULL")
    return [f.get_db_prep_save(v, connection) for f, v in zip(set_fields, values, strict=True)] + [
        f.get_db_prep_value(k, connection, prepared=False)
        for f, k in zip(where_fields, keys, strict=True)
    ]


def update(model: type[models.Model], where: dict, values: dict) -> int:
    """``model.objects.filter(**where).update(**values)`` for equality ``where``: the
    number of rows changed. The default manager's own filters do not apply."""
    sql, set_fields, where_fields = _update(model, tuple(where), tuple(values))
    params = _params(set_fields, where_fields, list(values.values()), list(where.values()))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def update_many(
    model: type[models.Model],
    where: Sequence[str],
    columns: Sequence[str],
    rows: Iterable[tuple[Sequence, Sequence]],
) -> None:
    """One statement run for each ``(values, keys)`` row (``executemany``)."""
    sql, set_fields, where_fields = _update(model, tuple(where), tuple(columns))
    params = [_params(set_fields, where_fields, values, keys) for values, keys in rows]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


@cache
def _delete(model: type[models.Model], where: tuple[str, ...]):
    fields = [model._meta.get_field(name) for name in where]
    quote = connection.ops.quote_name
    sql = f"DELETE FROM {quote(model._meta.db_table)} WHERE {_equal(fields)}"
    return sql, fields


def delete_many(model: type[models.Model], where: Sequence[str], rows: Iterable[Sequence]) -> None:
    """One DELETE run for each row of ``where`` values (``executemany``). Nothing cascades:
    for rows no other row refers to."""
    sql, where_fields = _delete(model, tuple(where))
    params = [_params([], where_fields, [], keys) for keys in rows]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
