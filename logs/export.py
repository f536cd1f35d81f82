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
from itertools import islice

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Case, F, Func, QuerySet, TextField, Value, When
from django.db.models.functions import NullIf
from django.http import StreamingHttpResponse

from postbacks.models import LogStatus, PostbackType

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
TEXT_COLUMNS = ("postback_name", "transaction_id", "url", "error", "server_response")

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


def _label(field: str, choices) -> Case:
    whens = [When(**{field: value}, then=Value(str(label))) for value, label in choices]
    return Case(*whens, default=F(field), output_field=TextField())


def export_cells(queryset: QuerySet) -> QuerySet:
    """The queryset as tuples of CSV cells in LOG_COLUMNS order, formatted by the database:
    time as ISO 8601 UTC, capitalised labels for enums, formula cells neutralised."""
    cells = {
        "cell_created": IsoTime("created"),
        "cell_status": _label("status", LogStatus.choices),
        "cell_postback_type": _label("postback_type", PostbackType.choices),
    }
    for column in TEXT_COLUMNS:
        # NULL for empty text: COPY writes "" for an empty string but nothing for NULL.
        cells[f"cell_{column}"] = NullIf(
            NeutralisedText(column), Value(""), output_field=TextField()
        )
    names = [f"cell_{field}" if f"cell_{field}" in cells else field for field in FIELDS]
    return queryset.annotate(**cells).values_list(*names)


def log_rows(queryset: QuerySet) -> Iterator[tuple]:
    """One tuple of cells per log row, in LOG_COLUMNS order, from a server-side cursor."""
    return export_cells(queryset).iterator(chunk_size=FETCH_SIZE)


def _header(lineterminator: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=lineterminator).writerow(HEADER)
    return buffer.getvalue()


def _writer_chunks(queryset: QuerySet) -> Iterator[str]:
    """csv.writer over a server-side cursor, ROWS_PER_CHUNK rows a chunk.

    Rows end in CRLF (RFC 4180): csv.writer quotes a lone CR only when it is part of the
    line terminator.
    """
    yield _header("\r\n")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    rows = log_rows(queryset)
    while True:
        writer.writerows(islice(rows, ROWS_PER_CHUNK))
        chunk = buffer.getvalue()
        if not chunk:
            return
        yield chunk
        buffer.seek(0)
        buffer.truncate()


def _copy_chunks(queryset: QuerySet) -> Iterator[bytes]:
    """PostgreSQL writes the CSV itself: COPY of the filtered, formatted query (LF rows)."""
    connection = connections[queryset.db]
    yield _header("\n").encode()
    try:
        sql, params = export_cells(queryset).query.sql_with_params()
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


def csv_chunks(queryset: QuerySet) -> Iterator[str | bytes]:
    """The CSV, header first, in chunks (UTF-8 bytes from COPY, text otherwise)."""
    if connections[queryset.db].vendor == "postgresql":
        yield from _copy_chunks(queryset)
    else:
        yield from _writer_chunks(queryset)


def csv_response(queryset: QuerySet, filename: str = "postback-logs.csv") -> StreamingHttpResponse:
    """Stream every row of the queryset as a UTF-8 CSV download."""
    response = StreamingHttpResponse(csv_chunks(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
