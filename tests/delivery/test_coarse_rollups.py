"""Coarse rollups (hour, 6 hours, day, week) and the series rows (per offer, hour, 6 hours,
day): written beside the 5-minute rows, they add up to the same figures for every window
and grouping, from far fewer rows."""

import importlib
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.db.models import Q, Sum
from django.utils import timezone

from postbacks import rollups, stats
from postbacks.models import AttemptRollup, CoarseAttemptRollup, SeriesRollup
from postbacks.rollups import (
    BUCKET,
    COARSE_SPANS,
    COUNT_COLUMNS,
    SERIES_SPANS,
    bucket_start,
    cover,
)

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)


def planted(now: datetime, days: int = 32, seed: int = 7) -> None:
    """Groups through the writer (postbacks.rollups._upsert) at irregular times over the
    last `days` days, for 3 configs, 2 publishers and 3 offers, ending 10 minutes ago
    (so that the window's end cannot move past one while the test runs)."""
    chance = random.Random(seed)
    moment, groups = now - timedelta(days=days), {}
    while moment < now - 10 * MINUTE:
        config = chance.randint(1, 3)
        key = (bucket_start(moment), config, chance.randint(1, 3))
        attempts = chance.randint(1, 9)
        ok = chance.randint(0, attempts)
        counts = groups.setdefault(key, defaultdict(int))
        counts["publisher_id"] = 1 + config % 2
        counts["attempts"] += attempts
        counts["succeeded"] += ok
        counts["failed_5xx"] += attempts - ok
        counts["first_attempts"] += 1
        counts["first_attempt_successes"] += ok > 0
        counts["latency_le_100"] += attempts
        counts["deliveries_succeeded"] += ok > 0
        counts["to_success_le_1m"] += ok > 0
        moment += timedelta(minutes=chance.randint(3, 97))
    rollups._upsert(groups)


def naive(start: datetime, end: datetime, key: str) -> dict:
    """The sums over the 5-minute rows alone, as the first version added them up."""
    rows = AttemptRollup.objects.filter(bucket__gte=start, bucket__lt=end)
    sums = {column: Sum(column) for column in COUNT_COLUMNS}
    return {row[key]: row for row in rows.values(key).annotate(**sums).order_by(key)}


def test_cover_splits_a_window_into_aligned_ranges_without_gaps():
    chance = random.Random(3)
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(500):
        start = epoch + chance.randrange(0, 60 * 288) * BUCKET
        end = start + chance.randrange(0, 40 * 288) * BUCKET
        spans = chance.choice([COARSE_SPANS, COARSE_SPANS[1:], COARSE_SPANS[2:], ()])
        pieces = cover(start, end, spans)
        reached = start
        for span, first, last in pieces:
            assert first == reached and first < last
            assert bucket_start(first, span) == first and bucket_start(last, span) == last
            assert span == BUCKET or span in spans
            reached = last
        assert reached == end or (start == end and not pieces)


def test_a_30_day_window_is_whole_weeks_and_days_inside_and_finer_rows_at_its_edges():
    start = datetime(2026, 11, 2, 18, 55, tzinfo=UTC)
    end = datetime(2026, 12, 2, 19, 5, tzinfo=UTC)

    def nov(day: int, hour: int = 0) -> datetime:
        return datetime(2026, 11, day, hour, tzinfo=UTC)

    def dec(day: int, hour: int = 0) -> datetime:
        return datetime(2026, 12, day, hour, tzinfo=UTC)

    hour, six_hours, day = timedelta(hours=1), timedelta(hours=6), timedelta(days=1)
    week = timedelta(weeks=1)  # Thursday to Thursday, as the Unix epoch began
    assert cover(start, end) == [
        (BUCKET, start, nov(2, 19)),
        (hour, nov(2, 19), nov(3)),
        (day, nov(3), nov(5)),
        (week, nov(5), nov(26)),
        (day, nov(26), dec(2)),
        (six_hours, dec(2), dec(2, 18)),
        (hour, dec(2, 18), dec(2, 19)),
        (BUCKET, dec(2, 19), end),
    ]


def test_coarse_rows_add_up_the_5_minute_rows_of_their_span():
    planted(timezone.now(), days=3)

    for span in COARSE_SPANS:
        expected: dict = defaultdict(lambda: defaultdict(int))
        for row in AttemptRollup.objects.all():
            key = (bucket_start(row.bucket, span), row.config_id, row.offer_id)
            for column in COUNT_COLUMNS:
                expected[key][column] += getattr(row, column)
        seconds = int(span.total_seconds())
        found = {
            (row.bucket, row.config_id, row.offer_id): {c: getattr(row, c) for c in COUNT_COLUMNS}
            for row in CoarseAttemptRollup.objects.filter(span=seconds)
        }
        assert found == {key: dict(counts) for key, counts in expected.items()}, span


def test_series_rows_add_up_the_5_minute_rows_of_their_offer_and_span():
    planted(timezone.now(), days=3)

    for span in SERIES_SPANS:
        expected: dict = defaultdict(lambda: [0, 0])
        for row in AttemptRollup.objects.all():
            key = (bucket_start(row.bucket, span), row.offer_id)
            expected[key][0] += row.attempts
            expected[key][1] += row.succeeded
        found = {
            (row.bucket, row.offer_id): [row.attempts, row.succeeded]
            for row in SeriesRollup.objects.filter(span=int(span.total_seconds()))
        }
        assert found == dict(expected), span


def test_an_offer_scoped_series_adds_up_only_that_offers_rows():
    planted(timezone.now())
    now = timezone.now()

    for window in stats.WINDOWS:
        start, end = stats.window_start(window, now), stats.window_end(now)
        found = stats.series(start, now, window, scope=Q(offer_id__in=[2]))
        rows = AttemptRollup.objects.filter(bucket__gte=start, bucket__lt=end, offer_id=2)
        assert sum(p["succeeded"] + p["failed"] for p in found) == sum(
            rows.values_list("attempts", flat=True)
        ), window
        assert sum(p["succeeded"] for p in found) == sum(
            rows.values_list("succeeded", flat=True)
        ), window


def test_every_window_and_grouping_equals_the_sum_of_its_5_minute_rows():
    planted(timezone.now())

    for window in stats.WINDOWS:
        for by, key in stats.GROUPINGS.items():
            found = stats.figures(window, by)
            end = stats.window_end(timezone.now())
            expected = naive(found.start, end, key)
            assert [group["id"] for group in found.groups] == sorted(expected), (window, by)
            for group in found.groups:
                row = expected[group["id"]]
                assert group == stats.group(row, group["id"], None), (window, by)
            total = stats.added_up(expected.values())
            assert found.total == stats.group(total, 0, "All"), (window, by)
            assert_series(found, window, end)


def assert_series(found: stats.Figures, window: str, end: datetime) -> None:
    interval = stats.SERIES_INTERVALS[window]
    expected: dict = defaultdict(lambda: [0, 0])
    for bucket, ok, attempts in AttemptRollup.objects.filter(
        bucket__gte=found.start, bucket__lt=end
    ).values_list("bucket", "succeeded", "attempts"):
        expected[bucket_start(bucket, interval)][0] += ok
        expected[bucket_start(bucket, interval)][1] += attempts - ok
    assert {p["start"]: [p["succeeded"], p["failed"]] for p in found.series if any(
        (p["succeeded"], p["failed"])
    )} == dict(expected), window  # fmt: skip


def test_the_migration_adds_up_the_rows_written_before_it():
    planted(timezone.now(), days=4, seed=11)
    written = sorted(CoarseAttemptRollup.objects.values_list())
    CoarseAttemptRollup.objects.all().delete()
    migration = importlib.import_module("postbacks.migrations.0009_coarseattemptrollup")

    migration.add_up_existing_rollups(apps, None)

    fields = [f.name for f in CoarseAttemptRollup._meta.concrete_fields if f.name != "id"]
    assert sorted(CoarseAttemptRollup.objects.values_list(*fields)) == sorted(
        tuple(row[1:]) for row in written
    )


def test_the_series_migration_adds_up_the_coarse_rows_written_before_it():
    planted(timezone.now(), days=4, seed=13)
    fields = [f.name for f in SeriesRollup._meta.concrete_fields if f.name != "id"]
    written = sorted(SeriesRollup.objects.values_list(*fields))
    SeriesRollup.objects.all().delete()
    migration = importlib.import_module("postbacks.migrations.0011_seriesrollup")

    migration.add_up_existing_rollups(apps, None)

    assert sorted(SeriesRollup.objects.values_list(*fields)) == written
