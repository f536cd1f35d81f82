"""Writing attempts' log rows: a COPY on PostgreSQL, bulk_create elsewhere.

The dispatcher writes a batch of log rows per record(). Django's bulk_create compiles
an INSERT of rows × 24 parameters and quotes every one of them into the SQL text on the
client; a COPY sends the rows as they are, formatted by psycopg's C code, and PostgreSQL
routes them to their partition without parsing a statement. Nothing reads the rows' ids
back: record() needs only what it put in them.

PostgreSQL text cannot hold a NUL, and a publisher's answer may: `storable` writes any
text field's NUL as U+FFFD (as undecodable bytes already are), on every database alike,
so that one odd answer cannot fail the batch it is recorded in.
"""

import json
from functools import cache

import psycopg
from django.db import connection, models

from postbacks.models import PostbackLog

NUL = "\x00"
REPLACEMENT = "\ufffd"


def insert_logs(rows: list[PostbackLog]) -> None:
    if connection.vendor != "postgresql":
        PostbackLog.objects.bulk_create(rows)
        return
    fields = _fields()
    connection.ensure_connection()
    # Inside the caller's transaction: the raw connection is Django's own.
    with (
        connection.wrap_database_errors,
        psycopg.Cursor(connection.connection) as cursor,
        cursor.copy(_copy_sql()) as copy,
    ):
        for row in rows:
            copy.write_row([_value(row, field) for field in fields])


@cache
def _fields() -> list[models.Field]:
    return [field for field in PostbackLog._meta.concrete_fields if not field.primary_key]


@cache
def _copy_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _fields())
    return f"COPY {quote(PostbackLog._meta.db_table)} ({columns}) FROM STDIN"


def _value(row: PostbackLog, field: models.Field):
    value = getattr(row, field.attname)
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    return value


def storable(row: PostbackLog) -> PostbackLog:
    """The row with NULs out of its text fields and its headers' names and values."""
    for field in _fields():
        value = getattr(row, field.attname)
        if isinstance(value, str) and NUL in value:
            setattr(row, field.attname, value.replace(NUL, REPLACEMENT))
    headers = row.request_headers
    if any(NUL in name or NUL in str(value) for name, value in headers.items()):
        row.request_headers = {
            name.replace(NUL, REPLACEMENT): str(value).replace(NUL, REPLACEMENT)
            for name, value in headers.items()
        }
    return row
