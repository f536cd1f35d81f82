"""The click path's write: one hand-written INSERT, one round trip, no id fetched.

Compiling an ORM INSERT costs more than running it, and the redirect needs no id. On
PostgreSQL, outside a transaction block, the statement goes straight to libpq through
psycopg's public `Connection.pgconn`: prepared once per connection (when
settings.DB_PREPARED_STATEMENTS), executed with text parameters that the statement casts,
and committed without waiting for the WAL flush (settings.CLICK_SYNCHRONOUS_COMMIT). That
skips psycopg's cursor, adaptation and statement bookkeeping, most of what the click
paid for its INSERT on the client (docs/performance.md#clicks). Inside a transaction
block the INSERT goes through Django's cursor, so it belongs to that transaction.
"""

import weakref
from datetime import datetime
from functools import lru_cache

import psycopg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError, connections, models
from django.db.models import Model
from psycopg import errors, pq

# Names of the click statements each psycopg connection has prepared.
_prepared: "weakref.WeakKeyDictionary[psycopg.Connection, set[bytes]]" = weakref.WeakKeyDictionary()


def insert_click(connection, click: Model) -> None:
    fields = insert_fields(type(click))
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        values = [f.get_db_prep_save(getattr(click, f.attname), connection) for f in fields]
        with connection.cursor() as cursor:
            cursor.execute(portable_sql(connection.alias, type(click)), values)
        return
    params = [_text(getattr(click, f.attname)) for f in fields]
    statement = postgres_statement(connection, type(click))
    try:
        _execute(connection, statement, params)
    except (OperationalError, InterfaceError):
        # No per-request health check (a SELECT 1 costs as much as the INSERT): a
        # connection that died while idle is replaced and the INSERT tried once more.
        connection.close()
        _execute(connection, statement, params)


def insert_fields(model) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


@lru_cache(maxsize=8)
def portable_sql(alias: str, model) -> str:
    """INSERT … VALUES (%s, …) for Django's cursor, on any database."""
    columns, table = _names(connections[alias], model)
    placeholders = ", ".join(["%s"] * len(insert_fields(model)))
    return f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608


def postgres_statement(connection, model) -> tuple[bytes, bytes]:
    """(name, SQL) of the INSERT … SELECT CAST($1 AS …), … that libpq prepares."""
    return _postgres_statement(connection.alias, model, settings.CLICK_SYNCHRONOUS_COMMIT)


@lru_cache(maxsize=8)
def _postgres_statement(alias: str, model, synchronous_commit: bool) -> tuple[bytes, bytes]:
    require_text_parameters(insert_fields(model))
    connection = connections[alias]
    columns, table = _names(connection, model)
    casts = ", ".join(
        f"CAST(${n} AS {f.db_type(connection)})" for n, f in enumerate(insert_fields(model), 1)
    )
    # set_config(…, true) holds for this statement's own implicit transaction only.
    relaxed = (
        ""
        if synchronous_commit
        else " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
    )
    sql = f"INSERT INTO {table} ({columns}) SELECT {casts}{relaxed}"  # noqa: S608
    name = f"integr8_{model._meta.db_table}_insert{'_synchronous' if synchronous_commit else ''}"
    return name.encode(), sql.encode()


# Fields whose values _text turns into what PostgreSQL reads back as the same value.
TEXT_PARAMETER_FIELDS = (
    models.CharField,
    models.IntegerField,
    models.ForeignKey,
    models.GenericIPAddressField,
    models.DateTimeField,
)


def require_text_parameters(fields: list) -> None:
    """Parameters skip Django's get_db_prep_save: a field of another kind (JSON, say)
    would be sent as its Python repr, so adding one stops the click path loudly."""
    for field in fields:
        if not isinstance(field, TEXT_PARAMETER_FIELDS):
            raise ImproperlyConfigured(
                f"{field.model.__name__}.{field.name} ({type(field).__name__}) has no text "
                "form in offers/click_insert.py: add it there before adding it to the click."
            )


def _names(connection, model) -> tuple[str, str]:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in insert_fields(model))
    return columns, quote(model._meta.db_table)


def _text(value) -> str | None:
    """A parameter as PostgreSQL reads it in text format; the statement casts it."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    if "\x00" in text:
        # libpq ends a text parameter at a NUL: refuse rather than store it cut short.
        raise ValueError("a click field holds a NUL character")
    return text


def _execute(connection, statement: tuple[bytes, bytes], params: list[str | None]) -> None:
    name, sql = statement
    connection.ensure_connection()
    raw = connection.connection
    pgconn = raw.pgconn
    with connection.wrap_database_errors:
        encoding = raw.info.encoding
        values = [None if p is None else p.encode(encoding) for p in params]
        if not settings.DB_PREPARED_STATEMENTS:
            _check(raw, pgconn.exec_params(sql, values), encoding)
            return
        names = _prepared.setdefault(raw, set())
        if name not in names:
            _check(raw, pgconn.prepare(name, sql), encoding)
            names.add(name)
        result = pgconn.exec_prepared(name, values)
        if _statement_is_gone(result):  # e.g. after a pooler's DISCARD ALL
            _check(raw, pgconn.prepare(name, sql), encoding)
            result = pgconn.exec_prepared(name, values)
        _check(raw, result, encoding)


def _statement_is_gone(result) -> bool:
    state = result.error_field(pq.DiagnosticField.SQLSTATE)
    return result.status == pq.ExecStatus.FATAL_ERROR and state == b"26000"


def _check(raw, result, encoding: str) -> None:
    if result.status == pq.ExecStatus.COMMAND_OK:
        return
    if raw.pgconn.status != pq.ConnStatus.OK:
        # A lost connection's result carries no SQLSTATE: name it for what it is.
        message = result.get_error_message(encoding) or "the connection was lost"
        raise psycopg.OperationalError(message)
    raise errors.error_from_result(result, encoding=encoding)
