"""CSV export of postback logs: a row generator streamed in chunks (SPEC §5, §6, §7).

Rows come from a server-side cursor (`iterator()`), are written in batches, and never
sit in memory all at once. The database formats the cells (time, labels, a leading single
quote on cells a spreadsheet would run as a formula: OWASP CSV injection), so Python only
hands tuples to csv.writer; that keeps the export near the speed of COPY.
"""

import csv
import io
from collections.abc import Iterator
from itertools import islice

from django.db.models import Case, F, Func, QuerySet, TextField, Value, When
from django.http import StreamingHttpResponse

from logs.models import LogStatus
from postbacks.models import PostbackType

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
ROWS_PER_CHUNK = 1000  # rows per chunk of the HTTP response


def neutralise(cell: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula with a single quote.

    The export applies the same rule in SQL (NeutralisedText); this is for other callers.
    """
    if cell and cell[0] in FORMULA_STARTS:
        return "'" + cell
    return cell


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class NeutralisedText(Func):
    """SQL twin of neutralise(), evaluated by the database (PostgreSQL and SQLite)."""

    # Literal tab, CR and LF inside string literals are valid in both databases.
    template = (
        "CASE WHEN substr(%(expressions)s, 1, 1) IN ("
        + ", ".join(_sql_literal(char) for char in FORMULA_STARTS)
        + ") THEN "
        + _sql_literal("'")
        + " || %(expressions)s ELSE %(expressions)s END"
    )
    output_field = TextField()


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
        cells[f"cell_{column}"] = NeutralisedText(column)
    names = [f"cell_{field}" if f"cell_{field}" in cells else field for field in FIELDS]
    return queryset.annotate(**cells).values_list(*names)


def log_rows(queryset: QuerySet) -> Iterator[tuple]:
    """One tuple of cells per log row, in LOG_COLUMNS order, from a server-side cursor."""
    return export_cells(queryset).iterator(chunk_size=FETCH_SIZE)


def csv_chunks(queryset: QuerySet) -> Iterator[str]:
    """The CSV text, header first, in chunks of ROWS_PER_CHUNK rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    rows = log_rows(queryset)
    while True:
        writer.writerows(islice(rows, ROWS_PER_CHUNK))
        chunk = buffer.getvalue()
        if not chunk:
            return
        yield chunk
        buffer.seek(0)
        buffer.truncate()


def csv_response(queryset: QuerySet, filename: str = "postback-logs.csv") -> StreamingHttpResponse:
    """Stream every row of the queryset as a UTF-8 CSV download."""
    response = StreamingHttpResponse(csv_chunks(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
