"""Delivery health figures (SPEC §11) from the rollups and the delivery table only.

- The window covers the 5-minute rollup buckets from the one holding now − window to the
  one holding now, added up from the fewest rollup rows (postbacks.rollups.summed).
- attempts: every attempt but Send tests; deliveries_finished: deliveries that ended in
  the window (succeeded, or failed for good); a re-fired delivery that ends again
  counts again.
- first_attempt_success_rate: first attempts that succeeded / first attempts;
  success_rate (eventual): deliveries that succeeded / deliveries finished, both in the
  window. Fractions 0..1, null when the denominator is 0.
- Percentiles come from the histograms: the upper edge of the bucket holding the
  ceil(p × n)-th smallest value (the last edge when it is in the overflow bucket).
- backlog: due = pending, next attempt time passed, not leased; oldest_due_seconds: the
  age of the oldest due one's next attempt time; retrying: pending after ≥ 1 attempt.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from offers.models import Advertiser, Offer, Publisher
from postbacks.models import (
    Delivery,
    DeliveryQuerySet,
    DeliveryState,
    PostbackConfig,
    SeriesRollup,
)
from postbacks.rollups import (
    BUCKET,
    COUNT_COLUMNS,
    LATENCY_COLUMNS,
    LATENCY_EDGES_MS,
    TO_SUCCESS_COLUMNS,
    TO_SUCCESS_EDGES_MS,
    bucket_start,
    summed,
)

WINDOWS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
# The series' interval per window (each a multiple of the 5-minute bucket): 13 to 31 points.
SERIES_INTERVALS = {
    "1h": timedelta(minutes=5),
    "24h": timedelta(hours=1),
    "7d": timedelta(hours=6),
    "30d": timedelta(days=1),
}
GROUPINGS = {"publisher": "publisher_id", "config": "config_id", "offer": "offer_id"}
NAMED = {"publisher": Publisher, "config": PostbackConfig, "offer": Offer}
FAILURE_COLUMNS = {
    "4xx": "failed_4xx",
    "5xx": "failed_5xx",
    "timeout": "timeout",
    "network": "network",
    "blocked": "blocked",
    "rejected": "rejected",
    "skipped": "skipped",
}
DEFAULT_WINDOW, DEFAULT_BY = "24h", "publisher"


SUMS = {column: Sum(column) for column in COUNT_COLUMNS}


def window_start(window: str, now: datetime) -> datetime:
    return bucket_start(now - WINDOWS[window])


def window_end(now: datetime) -> datetime:
    """The end of the bucket holding now (exclusive)."""
    return bucket_start(now) + BUCKET


@dataclass
class Figures:
    window: str
    by: str
    start: datetime
    groups: list[dict]
    group_count: int
    total: dict
    backlog: dict
    series: list[dict]


def figures(
    window: str,
    by: str,
    advertiser: Advertiser | None = None,
    worst: bool = False,
    limit: int | None = None,
) -> Figures:
    """The §11 figures for the window, grouped by publisher, config or offer (by ID, or
    the `worst` first: most failed attempts), at most `limit` groups, and the total over
    all of them; an advertiser sees its own offers' attempts and deliveries."""
    now = timezone.now()
    start, end = window_start(window, now), window_end(now)
    scope, deliveries = None, Delivery.objects.all()
    if advertiser is not None:
        scope = Q(offer_id__in=Offer.objects.filter(advertiser=advertiser))
        deliveries = deliveries.filter(
            Q(conversion__offer__advertiser=advertiser) | Q(click__offer__advertiser=advertiser)
        )
    sums = summed(start, end, SUMS, key=GROUPINGS[by], scope=scope)
    shown = (worst_first(sums) if worst else sorted(sums))[:limit]
    return Figures(
        window=window,
        by=by,
        start=start,
        groups=named_groups({pk: sums[pk] for pk in shown}, by),
        group_count=len(sums),
        total=group(added_up(sums.values()), 0, "All"),
        backlog=backlog(deliveries, now),
        series=series(start, now, window, scope),
    )


def stats(window: str, by: str, advertiser: Advertiser | None = None) -> dict:
    """GET /api/v1/stats/'s answer (SPEC §11)."""
    found = figures(window, by, advertiser)
    return {
        "window": window,
        "by": by,
        "groups": found.groups,
        "backlog": found.backlog,
        "series": found.series,
    }


def worst_first(sums: dict[int, dict[str, int]]) -> list[int]:
    """The groups with the most failed attempts first, then the busiest, then by ID."""

    def order(pk: int) -> tuple[int, int, int]:
        row = sums[pk]
        return (-sum(row[column] for column in FAILURE_COLUMNS.values()), -row["attempts"], pk)

    return sorted(sums, key=order)


def named_groups(sums: dict[int, dict[str, int]], by: str) -> list[dict]:
    """The groups' figures, in the order of `sums`, each with its name."""
    names = dict(NAMED[by]._default_manager.filter(pk__in=list(sums)).values_list("pk", "name"))
    return [group(row, pk, names.get(pk)) for pk, row in sums.items()]


def added_up(rows: Iterable[dict[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(COUNT_COLUMNS, 0)
    for row in rows:
        for column in COUNT_COLUMNS:
            total[column] += row[column]
    return total


def group(row: dict, pk: int, name: str | None) -> dict:
    finished = row["deliveries_succeeded"] + row["deliveries_failed"]
    return {
        "id": pk,
        "name": name,
        "attempts": row["attempts"],
        "deliveries_finished": finished,
        "first_attempt_success_rate": rate(row["first_attempt_successes"], row["first_attempts"]),
        "success_rate": rate(row["deliveries_succeeded"], finished),
        "failures": {name: row[column] for name, column in FAILURE_COLUMNS.items()},
        "latency_ms": percentiles([row[c] for c in LATENCY_COLUMNS], LATENCY_EDGES_MS),
        "conversion_to_success_ms": percentiles(
            [row[c] for c in TO_SUCCESS_COLUMNS], TO_SUCCESS_EDGES_MS
        ),
    }


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def percentiles(counts: Sequence[int], edges: Sequence[int]) -> dict:
    return {"p50": percentile(counts, edges, 0.5), "p95": percentile(counts, edges, 0.95)}


def percentile(counts: Sequence[int], edges: Sequence[int], fraction: float) -> int | None:
    """The upper edge of the histogram bucket holding the ceil(fraction × n)-th value;
    counts has one bucket per edge plus the overflow bucket (reported as the last edge)."""
    total = sum(counts)
    if not total:
        return None
    rank, seen = max(1, math.ceil(fraction * total)), 0
    for index, count in enumerate(counts):
        seen += count
        if seen >= rank:
            return edges[min(index, len(edges) - 1)]
    return edges[-1]


def backlog(deliveries: DeliveryQuerySet, now: datetime) -> dict:
    """One pass over the pending deliveries (the partial index `delivery_due`)."""
    due = DeliveryQuerySet.due_condition(now)
    found = deliveries.filter(state=DeliveryState.PENDING).aggregate(
        due=Count("pk", filter=due),
        oldest=Min("next_attempt_at", filter=due),
        retrying=Count("pk", filter=Q(attempts__gt=0)),
    )
    oldest = found["oldest"]
    return {
        "due": found["due"],
        "oldest_due_seconds": int((now - oldest).total_seconds()) if oldest else None,
        "retrying": found["retrying"],
    }


def series(start: datetime, now: datetime, window: str, scope: Q | None = None) -> list[dict]:
    """Attempts per interval, succeeded vs failed, with empty intervals as zeros."""
    interval = SERIES_INTERVALS[window]
    points: dict[datetime, dict] = {}
    point_start = bucket_start(start, interval)
    while point_start <= now:
        points[point_start] = {"start": point_start, "succeeded": 0, "failed": 0}
        point_start += interval
    sums = {"ok": Sum("succeeded"), "total": Sum("attempts")}
    per_bucket = summed(
        start, window_end(now), sums, "bucket", scope, coarsest=interval, coarse=SeriesRollup
    )
    for bucket, row in per_bucket.items():
        point = points[bucket_start(bucket, interval)]
        point["succeeded"] += row["ok"]
        point["failed"] += row["total"] - row["ok"]
    return list(points.values())
