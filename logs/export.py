"""CSV export of postback logs: a row generator streamed in chunks (SPEC §5, §6, §7).

The database formats the cells (time, labels, a leading single quote on cells a
spreadsheet would run as a formula: OWASP CSV injection). On PostgreSQL the rows are then
streamed by `COPY (<the filtered query>) TO STDOUT WITH (FORMAT csv)`, which runs at the
speed of COPY; elsewhere a server-side cursor (`iterator()`) feeds csv.writer in batches.
Either way memory stays flat whatever the row count.
"""

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from itertools import islice

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Case, F, Func, QuerySet, TextField, Value, When
from django.db.models.functions import NullIf
from django.http import QueryDict, StreamingHttpResponse
from django.utils.text import slugify

from postbacks.models import LogStatus, PostbackType, Trigger

# The §5 columns, in order: (PostbackLog field, header label).
LOG_COLUMNS: tuple[tuple[str, str], ...] = (
    ("created", "Time"),
    ("status", "Status"),
    ("postback_name", "Postback Name"),
    ("postback_type", "Postback Type"),
    ("offer_id", "Offer ID"),
    ("publisher_id", "Publisher ID"),
    ("event_id", "Event ID"),
    ("transaction_id", "Transaction ID"),
    ("response_code", "Response Code"),
    ("url", "URL"),
    ("error", "Error"),
    ("server_response", "Server Response"),
)
HEADER = [label for _, label in LOG_COLUMNS]
FIELDS = [field for field, _ in LOG_COLUMNS]
# What `columns=` may add to them (SPEC §13): every other field of the log row, and the
# called URL's query parameters as name=value lines.
MORE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "ID"),
    ("method", "Method"),
    ("attempt", "Attempt"),
    ("trigger", "Trigger"),
    ("duration_ms", "Duration (ms)"),
    ("webhook_id", "Webhook ID"),
    ("config_version", "Config Version"),
    ("request_body", "Request Body"),
    ("url_parameters", "URL Parameters"),
)
EXPORT_COLUMNS = dict(LOG_COLUMNS + MORE_COLUMNS)
EXPORT_COLUMNS_PARAMETER = "columns"  # ?columns=…: repeated or comma-separated, in order
TEXT_COLUMNS = (
    "postback_name",
    "transaction_id",
    "url",
    "error",
    "server_response",
    "method",
    "webhook_id",
    "request_body",
)

FORMULA_STARTS = "=+-@\t\r\n"
FETCH_SIZE = 2000  # rows per round trip of the server-side cursor
ROWS_PER_CHUNK = 1000  # rows per chunk of the HTTP response (csv.writer path)
CHUNK_BYTES = 64 * 1024  # bytes per chunk of the HTTP response (COPY path)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


FORMULA_TEST = (
    "substr(%(expressions)s, 1, 1) IN ("
    + ", ".join(_sql_literal(char) for char in FORMULA_STARTS)
    + ")"
)


class NeutralisedText(Func):
    """A cell that a spreadsheet would run as a formula gets a leading single quote;
    evaluated by the database (PostgreSQL and SQLite)."""

    # Literal tab, CR and LF inside string literals are valid in both databases.
    template = (
        f"CASE WHEN {FORMULA_TEST} THEN "
        + _sql_literal("'")
        + " || %(expressions)s ELSE %(expressions)s END"
    )
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        # Every formula character sorts before "A" byte-wise: one cheap comparison skips
        # the IN test for nearly every cell (URLs, names, response bodies).
        template = self.template.replace(
            "CASE WHEN ", "CASE WHEN %(expressions)s < 'A' COLLATE \"C\" AND ", 1
        )
        return self.as_sql(compiler, connection, template=template, **extra)


class IsoTime(Func):
    """A timestamp as ISO 8601 UTC text to the second, e.g. 2026-01-31T14:00:00Z."""

    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Stored as UTC text; %% because the SQL is %-formatted before it runs.
        template = "strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra)


class UrlParameters(Func):
    """The query string of a URL as name=value lines (as sent, percent-encoded); empty
    without one. The fragment is not part of it."""

    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        template = (
            "CASE WHEN strpos(%(expressions)s, '?') > 0 THEN replace(split_part("
            "substr(%(expressions)s, strpos(%(expressions)s, '?') + 1), '#', 1), '&', E'\\n') "
            "ELSE '' END"
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        query = "substr(%(expressions)s, instr(%(expressions)s, '?') + 1)"
        without_fragment = (
            f"CASE WHEN instr({query}, '#') > 0 THEN substr({query}, 1, instr({query}, '#') - 1) "
            f"ELSE {query} END"
        )
        template = (
            f"CASE WHEN instr(%(expressions)s, '?') > 0 THEN replace({without_fragment}, '&', "
            "char(10)) ELSE '' END"
        )
        return self.as_sql(compiler, connection, template=template, **extra)


def chosen_columns(values: list[str]) -> tuple[list[str], str]:
    """The `columns=` of a request (repeated, or comma-separated), in the order given:
    (columns, "") or ([], the error naming what is wrong). None given: the §5 columns."""
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    if not names:
        return FIELDS, "" if not values else "Name at least one column."
    unknown = [name for name in names if name not in EXPORT_COLUMNS]
    if unknown:
        known = ", ".join(EXPORT_COLUMNS)
        return [], f"Unknown column {', '.join(map(repr, unknown))}: use {known}."
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        return [], f"Column {', '.join(map(repr, twice))} is given twice."
    return names, ""


def _label(field: str, choices) -> Case:
    whens = [When(**{field: value}, then=Value(str(label))) for value, label in choices]
    return Case(*whens, default=F(field), output_field=TextField())


def _cell(column: str, empty_as_null: bool = True):
    """The database expression of a column's cell, or None for a plain number."""
    if column == "created":
        return IsoTime("created")
    if column in LABELS:
        return _label(column, LABELS[column])
    if column == "url_parameters":
        text = NeutralisedText(UrlParameters("url"))
    elif column in TEXT_COLUMNS:
        text = NeutralisedText(column)
    else:
        return None
    # NULL for empty text: COPY writes "" for an empty string but nothing for NULL. Alone
    # in its row, nothing would be a blank line, which readers skip: keep "" there.
    if not empty_as_null:
        return text
    return NullIf(text, Value(""), output_field=TextField())


LABELS = {
    "status": LogStatus.choices,
    "postback_type": PostbackType.choices,
    "trigger": Trigger.choices,
}


def export_cells(queryset: QuerySet, columns: list[str] = FIELDS) -> QuerySet:
    """The queryset as tuples of CSV cells in the order of `columns`, formatted by the
    database: time as ISO 8601 UTC, capitalised labels for enums, formula cells
    neutralised in every text column."""
    alone = len(columns) == 1
    cells = {f"cell_{column}": _cell(column, empty_as_null=not alone) for column in columns}
    cells = {name: expression for name, expression in cells.items() if expression is not None}
    names = [f"cell_{column}" if f"cell_{column}" in cells else column for column in columns]
    return queryset.annotate(**cells).values_list(*names)


def log_rows(queryset: QuerySet, columns: list[str] = FIELDS) -> Iterator[tuple]:
    """One tuple of cells per log row, in the order of `columns`, from a server-side cursor."""
    return export_cells(queryset, columns).iterator(chunk_size=FETCH_SIZE)


def _header(lineterminator: str, columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=lineterminator)
    writer.writerow([EXPORT_COLUMNS[column] for column in columns])
    return buffer.getvalue()


def _writer_chunks(queryset: QuerySet, columns: list[str]) -> Iterator[str]:
    """csv.writer over a server-side cursor, ROWS_PER_CHUNK rows a chunk.

    Rows end in CRLF (RFC 4180): csv.writer quotes a lone CR only when it is part of the
    line terminator.
    """
    yield _header("\r\n", columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    rows = log_rows(queryset, columns)
    while True:
        writer.writerows(islice(rows, ROWS_PER_CHUNK))
        chunk = buffer.getvalue()
        if not chunk:
            return
        yield chunk
        buffer.seek(0)
        buffer.truncate()


def _copy_chunks(queryset: QuerySet, columns: list[str]) -> Iterator[bytes]:
    """PostgreSQL writes the CSV itself: COPY of the filtered, formatted query (LF rows)."""
    connection = connections[queryset.db]
    yield _header("\n", columns).encode()
    try:
        sql, params = export_cells(queryset, columns).query.sql_with_params()
    except EmptyResultSet:  # e.g. `.none()` or `postback_name__in=[]`: nothing can match
        return
    if not params:
        sql = sql.replace("%%", "%")  # psycopg only un-escapes %% when it binds params
    connection.ensure_connection()
    pending, size = [], 0
    with connection.connection.cursor() as cursor:
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params or None) as copy:
            for block in copy:
                pending.append(block)
                size += len(block)
                if size >= CHUNK_BYTES:
                    yield b"".join(pending)
                    pending, size = [], 0
    if pending:
        yield b"".join(pending)


def csv_chunks(queryset: QuerySet, columns: list[str] = FIELDS) -> Iterator[str | bytes]:
    """The CSV, header first, in chunks (UTF-8 bytes from COPY, text otherwise)."""
    if connections[queryset.db].vendor == "postgresql":
        yield from _copy_chunks(queryset, columns)
    else:
        yield from _writer_chunks(queryset, columns)


def export_filename(filters: QueryDict, now: datetime) -> str:
    """postback-logs-<filters>-<UTC time>.csv: what the file holds, readable in a folder
    of downloads (status-failed_publisher_id-42…, at most 120 characters of filters)."""
    parts = [
        slugify(f"{name}-{value}")
        for name, values in sorted(filters.lists())
        for value in values
        if value
    ]
    described = "_".join(part for part in parts if part)[:120].strip("-_")
    stamp = f"{now:%Y%m%d-%H%M%S}"
    return f"postback-logs-{described}-{stamp}.csv" if described else f"postback-logs-{stamp}.csv"


def csv_response(
    queryset: QuerySet, filename: str = "postback-logs.csv", columns: list[str] = FIELDS
) -> StreamingHttpResponse:
    """Stream every row of the queryset as a UTF-8 CSV download."""
    response = StreamingHttpResponse(
        csv_chunks(queryset, columns), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
