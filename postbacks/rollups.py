"""Rollups of attempts, written in the transaction that writes their log rows.

One `AttemptRollup` row per config, offer and 5-minute bucket holds counts per outcome
class and latency histograms, so the overview and /api/v1/stats/ add up at most
8,640 buckets per config and offer for 30 days instead of scanning millions of log rows.
Five minutes is the trade-off: the 1h window still gets a 5-minute series, and 30 days
stay 8,640 rows per pair (one-minute buckets would be 43,200).

Each (bucket, config, offer) group is added once per record(), by one upsert statement
for all of its groups (`INSERT … VALUES (…), (…) ON CONFLICT … DO UPDATE SET
x = x + excluded.x`, on PostgreSQL and on SQLite ≥ 3.24); Django's
bulk_create(update_conflicts=True) would overwrite the counts instead of adding.
Send tests never reach record(), and are not counted: they are not deliveries.

The same counts also go, in the same transaction, to `CoarseAttemptRollup` rows per hour,
6 hours, day and week (weeks start on Thursdays, as the Unix epoch did), so a long window
adds up whole weeks and days inside it and finer rows only at its edges (`cover`,
`summed`): at 10,000,000 attempts over 30 days that is about 40 rows per config and offer
instead of 8,640 (docs/performance.md). The chart's attempts and successes per interval
also go to narrow `SeriesRollup` rows per offer, hour, 6 hours and day: summed over every
config, a 30-day chart reads a few rows per day and offer, not every config's wide rows.
"""

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING

import psycopg
from django.db import connection, connections, models
from django.db.models import Aggregate, Q, QuerySet

from postbacks.models import (
    AttemptRollup,
    CoarseAttemptRollup,
    DeliveryState,
    PostbackLog,
    SeriesRollup,
    Trigger,
    array_literal,
)
from postbacks.rules import REJECTED
from postbacks.transport import Outcome

if TYPE_CHECKING:
    from postbacks.attempts import Attempt

BUCKET = timedelta(minutes=5)
# The coarse rows' spans, coarsest first; each divides the next coarser one.
COARSE_SPANS = (timedelta(weeks=1), timedelta(days=1), timedelta(hours=6), timedelta(hours=1))
# The series' spans: every interval of stats.SERIES_INTERVALS longer than a bucket.
SERIES_SPANS = COARSE_SPANS[1:]
SERIES_COLUMNS = ["attempts", "succeeded"]

# Upper edges in ms; a duration d falls in the first bucket whose edge is >= d, and
# anything above the last edge in the overflow bucket.
LATENCY_EDGES_MS = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)
LATENCY_COLUMNS = [f"latency_le_{edge}" for edge in LATENCY_EDGES_MS] + ["latency_gt_60000"]
TO_SUCCESS_EDGES = {
    "1s": 1,
    "5s": 5,
    "10s": 10,
    "30s": 30,
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "3h": 3 * 3600,
    "6h": 6 * 3600,
    "12h": 12 * 3600,
    "24h": 24 * 3600,
}
TO_SUCCESS_EDGES_MS = tuple(seconds * 1000 for seconds in TO_SUCCESS_EDGES.values())
TO_SUCCESS_COLUMNS = [f"to_success_le_{name}" for name in TO_SUCCESS_EDGES] + ["to_success_gt_24h"]

# Outcome classes (outcome_class) are also the names of their count columns.
CLASSES = ("succeeded", "failed_4xx", "failed_5xx", "timeout", "network", "blocked")
COUNT_COLUMNS = [
    "attempts",
    *CLASSES,
    "rejected",
    "skipped",
    "first_attempts",
    "first_attempt_successes",
    "deliveries_succeeded",
    "deliveries_failed",
    *LATENCY_COLUMNS,
    *TO_SUCCESS_COLUMNS,
]
KEY_COLUMNS = ["bucket", "config_id", "offer_id"]
COARSE_KEY_COLUMNS = ["span", *KEY_COLUMNS]
SERIES_KEY_COLUMNS = ["span", "bucket", "offer_id"]

Key = tuple[datetime, int, int]
CoarseKey = tuple[int, datetime, int, int]
SeriesKey = tuple[int, datetime, int]


def outcome_class(outcome: Outcome) -> str:
    """What kind of outcome an attempt had, by the transport's words and code.

    Any HTTP answer below 500 that is not a success (1xx, a 3xx redirect loop, 4xx)
    counts as 4xx; a body that stopped arriving in time is a timeout even after a 2xx.
    """
    if outcome.ok:
        return "succeeded"
    if outcome.skipped:
        return "skipped"
    if outcome.error.startswith(REJECTED):
        return "rejected"
    if outcome.error.startswith("Blocked:"):
        return "blocked"
    if outcome.error.startswith("Timeout after"):
        return "timeout"
    if outcome.response_code >= 500:
        return "failed_5xx"
    if outcome.response_code > 0:
        return "failed_4xx"
    return "network"


def bucket_start(moment: datetime, size: timedelta = BUCKET) -> datetime:
    """The start of the bucket of `size` (aligned on the Unix epoch, UTC) holding moment."""
    epoch = datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    return moment - (moment - epoch) % size


def histogram_index(value_ms: int, edges: Sequence[int]) -> int:
    return bisect_left(edges, value_ms)


def add_to_rollups(
    results: "list[tuple[Attempt, Outcome]]",
    logs: list[PostbackLog],
    ended: "list[tuple[Attempt, str]]",
) -> None:
    """Add record()'s attempts (results, and the log rows written for them in the same
    order) and the deliveries they ended to the rollups; call inside its transaction."""
    endings = {id(attempt): state for attempt, state in ended}
    groups: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (attempt, outcome), log in zip(results, logs, strict=True):
        if attempt.trigger == Trigger.TEST or attempt.delivery is None:
            continue
        key = (bucket_start(log.created), attempt.config.pk, log.offer_id or 0)
        counts = groups[key]
        counts["publisher_id"] = log.publisher_id or 0
        _count_attempt(counts, attempt, outcome)
        _count_ending(counts, attempt, log, endings.get(id(attempt)))
    if groups:
        _upsert(groups)


def _count_attempt(counts: dict[str, int], attempt: "Attempt", outcome: Outcome) -> None:
    kind = outcome_class(outcome)
    counts["attempts"] += 1
    counts[kind] += 1
    if outcome.skipped:  # a log row, but nothing was sent: no try, no latency
        return
    if attempt.number == 1:
        counts["first_attempts"] += 1
        counts["first_attempt_successes"] += kind == "succeeded"
    counts[LATENCY_COLUMNS[histogram_index(outcome.duration_ms, LATENCY_EDGES_MS)]] += 1


def _count_ending(
    counts: dict[str, int], attempt: "Attempt", log: PostbackLog, state: str | None
) -> None:
    if state == DeliveryState.FAILED:
        counts["deliveries_failed"] += 1
    if state != DeliveryState.SUCCEEDED:
        return
    counts["deliveries_succeeded"] += 1
    since = _subject_created(attempt)
    if since is not None:
        elapsed_ms = max(0, int((log.created - since).total_seconds() * 1000))
        counts[TO_SUCCESS_COLUMNS[histogram_index(elapsed_ms, TO_SUCCESS_EDGES_MS)]] += 1


def _subject_created(attempt: "Attempt") -> datetime | None:
    """When the delivery's conversion (or click) happened; the dispatcher has it loaded."""
    delivery = attempt.claimed_delivery
    subject = delivery.conversion if delivery.conversion_id else delivery.click
    return subject.created if subject is not None else None


# Groups per statement: 500 × 47 parameters stay below SQLite's 32,766 and PostgreSQL's
# 65,535.
UPSERT_BATCH = 500


def upsert_sql(
    table: str,
    key_columns: list[str],
    rows: int,
    count_columns: Sequence[str] = COUNT_COLUMNS,
    set_columns: Sequence[str] = ("publisher_id",),
) -> str:
    """INSERT of `rows` groups that adds to the counts of the rows already there
    (`set_columns` are written when a row is new, and left alone after)."""
    columns = [*key_columns, *set_columns, *count_columns]
    additions = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in count_columns)
    row = f"({', '.join(['%s'] * len(columns))})"
    # Only this module's constant column names go into the text; values are parameters.
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
        f"VALUES {', '.join([row] * rows)} "
        f"ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET {additions}"
    )


def _upsert(groups: dict[Key, dict[str, int]]) -> None:
    """The 5-minute rows, then the coarse and the series rows they fall in, each group
    once per statement (PostgreSQL refuses to update a row twice in one). Sorted, so
    that dispatchers recording at the same time lock the rows they share in the same
    order and never deadlock."""
    _upsert_rows(AttemptRollup._meta.db_table, KEY_COLUMNS, groups, _row)
    _upsert_rows(
        CoarseAttemptRollup._meta.db_table, COARSE_KEY_COLUMNS, coarse_groups(groups), _row
    )
    _upsert_rows(
        SeriesRollup._meta.db_table,
        SERIES_KEY_COLUMNS,
        series_groups(groups),
        _series_row,
        count_columns=SERIES_COLUMNS,
        set_columns=(),
    )


def coarse_groups(groups: dict[Key, dict[str, int]]) -> dict[CoarseKey, dict[str, int]]:
    coarse: dict[CoarseKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (bucket, config_id, offer_id), counts in groups.items():
        for span in COARSE_SPANS:
            key = (int(span.total_seconds()), bucket_start(bucket, span), config_id, offer_id)
            target = coarse[key]
            for column, count in counts.items():
                if column == "publisher_id":
                    target[column] = count
                else:
                    target[column] += count
    return coarse


def series_groups(groups: dict[Key, dict[str, int]]) -> dict[SeriesKey, dict[str, int]]:
    series: dict[SeriesKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (bucket, _, offer_id), counts in groups.items():
        for span in SERIES_SPANS:
            target = series[(int(span.total_seconds()), bucket_start(bucket, span), offer_id)]
            for column in SERIES_COLUMNS:
                target[column] += counts.get(column, 0)
    return series


def upsert_arrays_sql(
    table: str,
    key_columns: list[str],
    count_columns: Sequence[str] = COUNT_COLUMNS,
    set_columns: Sequence[str] = ("publisher_id",),
) -> str:
    """PostgreSQL: the same upsert with one array parameter per column (unnest keeps
    their order), so the statement's text is the same for any number of rows: the driver
    need not parse thousands of placeholders, and PostgreSQL may keep its plan."""
    columns = [*key_columns, *set_columns, *count_columns]
    arrays = ", ".join(
        "%s::timestamptz[]" if column == "bucket" else "%s::bigint[]" for column in columns
    )
    additions = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in count_columns)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET {additions}"
    )


def _upsert_rows(
    table: str,
    key_columns: list[str],
    groups: dict,
    row: Callable[[tuple, dict[str, int]], list],
    **columns: Sequence[str],
) -> None:
    keys = sorted(groups)
    if connection.vendor == "postgresql":
        rows = [row(key, groups[key]) for key in keys]
        arrays = [array_literal(column) for column in zip(*rows, strict=True)]
        connection.ensure_connection()
        # Bound on the server: Django's client-side binding would quote every element.
        # Errors come out as Django's (the dispatcher rides out a database blip on them).
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            # prepare=False: no named prepared statements (PgBouncer in transaction mode).
            cursor.execute(upsert_arrays_sql(table, key_columns, **columns), arrays, prepare=False)
        return
    with connection.cursor() as cursor:
        for start in range(0, len(keys), UPSERT_BATCH):
            batch = keys[start : start + UPSERT_BATCH]
            values = [value for key in batch for value in row(key, groups[key])]
            cursor.execute(upsert_sql(table, key_columns, len(batch), **columns), values)


def _row(key: tuple, counts: dict[str, int]) -> list:
    *head, bucket, config_id, offer_id = key  # head: the span of a coarse row
    return [
        *head,
        connection.ops.adapt_datetimefield_value(bucket),
        config_id,
        offer_id,
        counts["publisher_id"],
        *(counts.get(column, 0) for column in COUNT_COLUMNS),
    ]


def _series_row(key: tuple, counts: dict[str, int]) -> list:
    span, bucket, offer_id = key
    bucket = connection.ops.adapt_datetimefield_value(bucket)
    return [span, bucket, offer_id, *(counts[column] for column in SERIES_COLUMNS)]


# Reading: a window as the fewest rows.

Span = timedelta
Cover = list[tuple[Span, datetime, datetime]]


def cover(start: datetime, end: datetime, spans: Sequence[Span] = COARSE_SPANS) -> Cover:
    """[start, end) (both on 5-minute bucket edges) as (span, from, to) ranges of rows:
    whole buckets of the coarsest span inside, finer ones at the edges, 5-minute
    buckets for what is left."""
    if start >= end:
        return []
    if not spans:
        return [(BUCKET, start, end)]
    span, finer = spans[0], spans[1:]
    inner_start = _ceil(start, span)
    inner_end = bucket_start(end, span)
    if inner_start >= inner_end:
        return cover(start, end, finer)
    return [
        *cover(start, inner_start, finer),
        (span, inner_start, inner_end),
        *cover(inner_end, end, finer),
    ]


def _ceil(moment: datetime, span: Span) -> datetime:
    floor = bucket_start(moment, span)
    return floor if floor == moment else floor + span


def summed(
    start: datetime,
    end: datetime,
    sums: Mapping[str, Aggregate],
    key: str | None = None,
    scope: Q | None = None,
    coarsest: Span = COARSE_SPANS[0],
    coarse: type[models.Model] = CoarseAttemptRollup,
) -> dict:
    """The sums over the rollup rows of [start, end), per value of `key` (or under the
    key None for all of them), from the fewest rows: at most one query per table (the
    5-minute rows and the `coarse` ones: CoarseAttemptRollup, or SeriesRollup for sums
    of its columns per bucket or offer). Rows are never coarser than `coarsest`, so a
    series can put each in its interval."""
    spans = COARSE_SPANS if coarse is CoarseAttemptRollup else SERIES_SPANS
    ranges: dict[type[models.Model], list[Q]] = {AttemptRollup: [], coarse: []}
    for span, first, last in cover(start, end, [s for s in spans if s <= coarsest]):
        window = Q(bucket__gte=first, bucket__lt=last)
        if span == BUCKET:
            ranges[AttemptRollup].append(window)
        else:
            ranges[coarse].append(window & Q(span=int(span.total_seconds())))
    names = list(sums)
    totals: dict[object, list[int]] = {}
    for model, windows in ranges.items():
        if not windows:
            continue
        rows = model._default_manager.filter(reduce(or_, windows))
        if scope is not None:
            rows = rows.filter(scope)
        for value, counts in _sums_of(rows, key, sums):
            total = totals.get(value)
            if total is None:
                totals[value] = [count or 0 for count in counts]
            else:
                totals[value] = [a + (b or 0) for a, b in zip(total, counts, strict=True)]
    return {value: dict(zip(names, counts, strict=True)) for value, counts in totals.items()}


def _sums_of(
    rows: QuerySet, key: str | None, sums: Mapping[str, Aggregate]
) -> list[tuple[object, Sequence[int | None]]]:
    """(value of key, the sums in the order of `sums`) per group of rows."""
    if key is None:
        found = rows.aggregate(**sums)
        return [(None, [found[name] for name in sums])]
    grouped = rows.values(key).annotate(**sums).order_by()
    if key == "bucket":  # datetimes, which the ORM converts (SQLite answers text)
        return [(row[key], [row[name] for name in sums]) for row in grouped]
    # IDs and counts need no conversion: the cursor's tuples are twice as fast as the
    # ORM's dicts for the 400 groups × 45 sums of a window.
    sql, params = grouped.query.sql_with_params()
    with connections[grouped.db].cursor() as cursor:
        cursor.execute(sql, params)
        return [(row[0], row[1:]) for row in cursor.fetchall()]
