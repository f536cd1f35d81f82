"""CSV export of postback logs: a row generator streamed in chunks (SPEC §5, §6, §7).

Rows come from a server-side cursor (`iterator()`), are written in batches, and never
sit in memory all at once. Cells a spreadsheet would read as a formula are neutralised
with a leading single quote (OWASP CSV injection).
"""

import csv
import io
from collections.abc import Iterator

from django.db.models import QuerySet
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

FORMULA_STARTS = frozenset("=+-@\t\r\n")
STATUS_LABELS = dict(LogStatus.choices)
TYPE_LABELS = dict(PostbackType.choices)
FETCH_SIZE = 2000  # rows per round trip of the server-side cursor
ROWS_PER_CHUNK = 500  # rows per chunk of the HTTP response


def neutralise(cell: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula with a single quote."""
    if cell and cell[0] in FORMULA_STARTS:
        return "'" + cell
    return cell


def format_time(value) -> str:
    """ISO 8601 in UTC to the second; the database session runs in UTC."""
    return value.isoformat(timespec="seconds")[:19] + "Z"


def log_rows(queryset: QuerySet) -> Iterator[tuple]:
    """One tuple of cells per log row, in LOG_COLUMNS order, labels for enums."""
    rows = queryset.values_list(*FIELDS).iterator(chunk_size=FETCH_SIZE)
    safe = neutralise
    for created, status, name, kind, offer, publisher, event, txn, code, url, error, body in rows:
        yield (
            format_time(created),
            STATUS_LABELS.get(status, status),
            safe(name),
            TYPE_LABELS.get(kind, kind),
            offer,
            publisher,
            event,
            safe(txn),
            code,
            safe(url),
            safe(error),
            safe(body),
        )


def csv_chunks(queryset: QuerySet) -> Iterator[str]:
    """The CSV text, header first, in chunks of ROWS_PER_CHUNK rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    batch = []
    for row in log_rows(queryset):
        batch.append(row)
        if len(batch) == ROWS_PER_CHUNK:
            writer.writerows(batch)
            batch.clear()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(batch)
    yield buffer.getvalue()


def csv_response(queryset: QuerySet, filename: str = "postback-logs.csv") -> StreamingHttpResponse:
    """Stream every row of the queryset as a UTF-8 CSV download."""
    response = StreamingHttpResponse(csv_chunks(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
