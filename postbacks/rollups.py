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
"""

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import connection

from postbacks.models import AttemptRollup, DeliveryState, PostbackLog, Trigger
from postbacks.transport import Outcome

if TYPE_CHECKING:
    from postbacks.attempts import Attempt

BUCKET = timedelta(minutes=5)

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

Key = tuple[datetime, int, int]


def outcome_class(outcome: Outcome) -> str:
    """What kind of outcome an attempt had, by the transport's words and code.

    Any HTTP answer below 500 that is not a success (1xx, a 3xx redirect loop, 4xx)
    counts as 4xx; a body that stopped arriving in time is a timeout even after a 2xx.
    """
    if outcome.ok:
        return "succeeded"
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


UPSERT_COLUMNS = [*KEY_COLUMNS, "publisher_id", *COUNT_COLUMNS]
# Groups per statement: 500 × 46 parameters stay below SQLite's 32,766 and PostgreSQL's
# 65,535.
UPSERT_BATCH = 500


def upsert_sql(rows: int) -> str:
    """INSERT of `rows` groups that adds to the counts of the rows already there."""
    table = AttemptRollup._meta.db_table
    additions = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COUNT_COLUMNS)
    row = f"({', '.join(['%s'] * len(UPSERT_COLUMNS))})"
    # Only this module's constant column names go into the text; values are parameters.
    return (
        f"INSERT INTO {table} ({', '.join(UPSERT_COLUMNS)}) "  # noqa: S608
        f"VALUES {', '.join([row] * rows)} "
        f"ON CONFLICT ({', '.join(KEY_COLUMNS)}) DO UPDATE SET {additions}"
    )


def _upsert(groups: dict[Key, dict[str, int]]) -> None:
    """One statement per batch of groups, each group once (PostgreSQL refuses to update
    a row twice in one statement). Sorted, so that dispatchers recording at the same time
    lock the rows they share in the same order and never deadlock."""
    keys = sorted(groups)
    with connection.cursor() as cursor:
        for start in range(0, len(keys), UPSERT_BATCH):
            batch = keys[start : start + UPSERT_BATCH]
            values = [value for key in batch for value in _row(key, groups[key])]
            cursor.execute(upsert_sql(len(batch)), values)


def _row(key: Key, counts: dict[str, int]) -> list:
    bucket, config_id, offer_id = key
    return [
        connection.ops.adapt_datetimefield_value(bucket),
        config_id,
        offer_id,
        counts["publisher_id"],
        *(counts.get(column, 0) for column in COUNT_COLUMNS),
    ]
