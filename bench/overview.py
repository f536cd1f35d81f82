"""`/` (the delivery overview) and GET /api/v1/stats/ on 10,000,000 attempts in PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/overview.py
        [--attempts 10000000] [--days 30] [--configs 400] [--publishers 300]
        [--deliveries 300000] [--runs 9] [--baseline-runs 3] [--refill]
        [--database integr8_bench_overview] [--json FILE]

DATABASE_URL names the server (its database part is ignored): the script creates and
uses its own database (default integr8_bench_overview), fills it once with INSERT …
SELECT FROM generate_series (reused on the next run unless --refill, or once its newest
bucket is more than an hour old), and prints:
- the data set: rollup rows equivalent to --attempts attempts over --days days, traffic
  skewed across --configs configs (the n-th busiest sends ~1/n^1.2 of the traffic) and
  one to three offers each, with a daily rhythm; deliveries (some due, retrying, failed),
  the conversions behind them, disabled and recently edited configs;
- server time (p50 and p90 over --runs) of `/?window=…&by=…` through Django's request
  handler with a logged-in staff user (template included) and of
  `/api/v1/stats/?window=…&by=…` with a staff API key, for every window × grouping, with
  the queries each ran and their time; neither may read the log table (checked);
- the query plan's main nodes for the 30d stats queries, to show what serves them (the
  groups from the 5-minute and coarse rows, the chart from the 5-minute and series rows);
- beside each, the same-run baseline: the first version's query, which summed every
  5-minute row of the window (before the coarse rows of postbacks.rollups).
Target (SPEC §9): p50 < 100 ms at 10,000,000 attempts, any window up to 30 days.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pgbench_database import own_database, setup_django  # noqa: E402

TARGET_MS = 100
SKEW = 1.2  # the n-th busiest config sends a share ∝ 1 / n^SKEW
ADVERTISERS, OFFERS = 20, 200

# Cumulative shares of an attempt's latency and of a delivery's conversion-to-success
# time per histogram bucket (postbacks.rollups.LATENCY_COLUMNS / TO_SUCCESS_COLUMNS; the
# overflow bucket takes the rest).
LATENCY_CUMULATIVE = (0.02, 0.10, 0.30, 0.55, 0.80, 0.90, 0.95, 0.98, 0.99, 0.997, 0.999, 1.0)
TO_SUCCESS_CUMULATIVE = (
    0.05, 0.30, 0.55, 0.75, 0.85, 0.90, 0.93, 0.95, 0.97, 0.985, 0.99, 0.995, 0.999,
)  # fmt: skip


def _split(total: str, cumulative: tuple[float, ...], columns: list[str]) -> list[str]:
    """SQL expressions that split the integer `total` over columns by cumulative shares
    (floor differences, the last column takes the rest), so they add up exactly."""
    edges = [f"floor({total} * {share})" for share in cumulative]
    parts = [edges[0]] + [f"{edges[i]} - {edges[i - 1]}" for i in range(1, len(edges))]
    parts.append(f"{total} - {edges[-1]}")
    assert len(parts) == len(columns), (len(parts), len(columns))
    return [f"({part})::int AS {column}" for part, column in zip(parts, columns, strict=True)]


def rollup_sql(args: argparse.Namespace) -> str:
    """One INSERT … SELECT of every (config, offer, 5-minute bucket) row that had attempts,
    in time order, as the writer leaves them.

    Each (config, offer) pair has an expected λ attempts per bucket (its share of the
    traffic times a daily rhythm of ±60 %); a bucket has a row with probability 1 − e^−λ
    and then about λ / (1 − e^−λ) attempts, so the expected total is --attempts. The
    outcome columns are split from the attempts, each config with its own failure rate
    (8 configs mostly failing, 1 in 10 failing 15 %, the rest 4 %).
    """
    from postbacks.models import AttemptRollup
    from postbacks.rollups import LATENCY_COLUMNS, TO_SUCCESS_COLUMNS

    buckets = args.days * 288
    harmonic = sum(1 / rank**SKEW for rank in range(1, args.configs + 1))
    per_bucket = args.attempts / buckets
    columns = [
        "bucket", "config_id", "publisher_id", "offer_id", "attempts", "succeeded",
        "failed_4xx", "failed_5xx", "timeout", "network", "blocked", "rejected", "skipped",
        "first_attempts", "first_attempt_successes", "deliveries_succeeded",
        "deliveries_failed", *LATENCY_COLUMNS, *TO_SUCCESS_COLUMNS,
    ]  # fmt: skip
    latency = ",\n        ".join(_split("a", LATENCY_CUMULATIVE, LATENCY_COLUMNS))
    to_success = ",\n        ".join(_split("s", TO_SUCCESS_CUMULATIVE, TO_SUCCESS_COLUMNS))
    return f"""
INSERT INTO {AttemptRollup._meta.db_table} ({", ".join(columns)})
SELECT bucket, config_id, publisher_id, offer_id, a, s,
    floor(f * 0.3)::int, floor(f * 0.35)::int, floor(f * 0.2)::int,
    (f - floor(f * 0.3) - floor(f * 0.35) - floor(f * 0.2) - blocked)::int, blocked::int, 0, 0,
    (a - floor(f * 0.8))::int,
    greatest(0, least(a - floor(f * 0.8), s - floor(f * 0.6)))::int,
    s, floor(f * 0.1)::int,
    {latency},
    {to_success}
FROM (
    -- OFFSET 0 keeps each level a subquery: flattened, every use of `a` below would
    -- recompute it from exp() (40 times a row).
    SELECT *, a - f AS s, CASE WHEN config_id %% 97 = 5 THEN floor(f * 0.1) ELSE 0 END AS blocked
    FROM (
        SELECT bucket, config_id, publisher_id, offer_id, a,
            least(a, round(a * failure_rate * (0.5 + u2)))::int AS f
        FROM (
            SELECT bucket, config_id, publisher_id, offer_id, failure_rate, u2,
                greatest(1, round(lam / (1 - exp(-lam)) * (0.7 + 0.6 * u2)))::int AS a
            FROM (
                SELECT p.config_id, p.publisher_id, p.offer_id, p.failure_rate,
                    %(newest)s::timestamptz - ({buckets - 1} - b) * interval '5 minutes'
                        AS bucket,
                    {per_bucket}::float8 * p.share
                        * (1 + 0.6 * sin(2 * pi() * (b %% 288) / 288.0)) AS lam,
                    (hashint8(b * 4096 + p.pair) & 2147483647) / 2147483648.0::float8 AS u,
                    (hashint8(b * 4096 + p.pair + 2000) & 2147483647) / 2147483648.0::float8
                        AS u2
                FROM (
                    SELECT c * 3 + j AS pair, c AS config_id,
                        1 + (c - 1) %% {args.publishers} AS publisher_id,
                        1 + (c * 7 + j * 31) %% {OFFERS} AS offer_id,
                        (1.0 / power(c::float8, {SKEW})) / (1 + c %% 3) / {harmonic} AS share,
                        CASE WHEN c %% 50 = 7 THEN 0.55 WHEN c %% 10 = 3 THEN 0.15 ELSE 0.04 END
                            ::float8 AS failure_rate
                    FROM generate_series(1, {args.configs}) AS c, generate_series(0, 2) AS j
                    WHERE j <= c %% 3
                ) AS p, generate_series(0, {buckets - 1}) AS b
                OFFSET 0
            ) AS cells
            WHERE u < 1 - exp(-lam)
            OFFSET 0
        ) AS present
        OFFSET 0
    ) AS failed
    OFFSET 0
) AS rows
ORDER BY bucket, config_id, offer_id
"""  # noqa: S608 (numbers and this module's column names only)


def coarse_rollup_sql() -> str:
    """The hour, 6-hour and day rows of the 5-minute rows, as the writer adds them up,
    in the order it leaves them on disk: a row is updated until its span ends, and its
    last version lands among the rows written then."""
    from postbacks.models import AttemptRollup, CoarseAttemptRollup
    from postbacks.rollups import COARSE_SPANS, COUNT_COLUMNS

    spans = ", ".join(f"({int(span.total_seconds())})" for span in COARSE_SPANS)
    sums = ", ".join(f"sum({column})" for column in COUNT_COLUMNS)
    return f"""
INSERT INTO {CoarseAttemptRollup._meta.db_table}
    (span, bucket, config_id, offer_id, publisher_id, {", ".join(COUNT_COLUMNS)})
SELECT * FROM (
    SELECT spans.span,
        to_timestamp(floor(extract(epoch FROM bucket) / spans.span) * spans.span) AS start,
        config_id, offer_id, max(publisher_id), {sums}
    FROM {AttemptRollup._meta.db_table}, (VALUES {spans}) AS spans (span)
    GROUP BY 1, 2, 3, 4
) AS coarse
ORDER BY start + span * interval '1 second', config_id, offer_id
"""  # noqa: S608 (numbers and this module's column names only)


def series_rollup_sql() -> str:
    """The chart's rows per offer, hour, 6 hours and day, in the writer's order too."""
    from postbacks.models import AttemptRollup, SeriesRollup
    from postbacks.rollups import SERIES_SPANS

    spans = ", ".join(f"({int(span.total_seconds())})" for span in SERIES_SPANS)
    return f"""
INSERT INTO {SeriesRollup._meta.db_table} (span, bucket, offer_id, attempts, succeeded)
SELECT * FROM (
    SELECT spans.span,
        to_timestamp(floor(extract(epoch FROM bucket) / spans.span) * spans.span) AS start,
        offer_id, sum(attempts), sum(succeeded)
    FROM {AttemptRollup._meta.db_table}, (VALUES {spans}) AS spans (span)
    GROUP BY 1, 2, 3
) AS series
ORDER BY start + span * interval '1 second', offer_id
"""  # noqa: S608 (numbers and this module's column names only)


def conversions_and_deliveries_sql(args: argparse.Namespace) -> tuple[str, str]:
    """Conversions spread over the days, one delivery each: 0.5 % due now (pending, next
    attempt passed), 1.5 % waiting for a retry, 2 % failed for good, 0.5 % cancelled, the
    rest succeeded."""
    conversions = f"""
INSERT INTO offers_conversion (
    transaction_id, click_id, offer_id, publisher_id, event_id, status, revenue, payout,
    currency, order_id, rejection_reason, dedupe_key, install_id, publisher_name,
    attributes, created, updated
)
SELECT 'txn' || g, NULL, 1 + g % {OFFERS}, 1 + g % {args.publishers}, NULL, 'approved',
    2.5, 1.75, 'USD', '', '', 'txn' || g || '||', '', '', '{{}}'::jsonb,
    now() - ({args.deliveries} - g) * interval '{args.days * 86400 / args.deliveries} seconds',
    now()
FROM generate_series(1, {args.deliveries}) AS g
"""  # noqa: S608
    deliveries = f"""
INSERT INTO postbacks_delivery (
    config_id, postback_type, click_id, conversion_id, state, attempts, max_attempts,
    next_attempt_at, locked_until, in_flight, next_trigger, claim_token, refire_requested,
    webhook_id, last_response_code, last_error, created, updated
)
SELECT 1 + (hashint8(id) & 2147483647) % {args.configs}, 'conversion', NULL, id,
    CASE WHEN k < 20 THEN 'pending' WHEN k < 40 THEN 'failed' WHEN k < 45 THEN 'cancelled'
        ELSE 'succeeded' END,
    CASE WHEN k < 5 THEN k % 2 WHEN k < 20 THEN 1 + k % 4 WHEN k < 40 THEN 5 ELSE 1 END,
    5,
    CASE WHEN k < 5 THEN now() - (k + 1) * interval '40 seconds'
        WHEN k < 20 THEN now() + (k - 4) * interval '2 minutes' ELSE created END,
    created, false, CASE WHEN k BETWEEN 1 AND 39 THEN 'retry' ELSE 'automatic' END, '',
    false, 'msg_' || md5(id::text),
    CASE WHEN k < 40 AND k % 2 = 0 THEN 503 WHEN k < 40 THEN 0 ELSE 200 END,
    CASE WHEN k < 40 AND k % 2 = 0 THEN 'HTTP 503' WHEN k < 40 THEN 'Timeout after 10 s'
        ELSE '' END,
    created, created
FROM (SELECT id, created, (hashint8(id + 7) & 2147483647) % 1000 AS k FROM offers_conversion)
    AS conversions
"""  # noqa: S608
    return conversions, deliveries


def create_partners(args: argparse.Namespace) -> None:
    """Advertisers, offers, publishers and configs by the ORM (a few hundred rows): 5
    configs disabled after failures, 30 edited in the last days (the chart marks them)."""
    from datetime import timedelta

    from django.utils import timezone

    from offers.models import Advertiser, Offer, Publisher
    from postbacks.models import PostbackConfig

    advertisers = Advertiser.objects.bulk_create(
        Advertiser(name=f"Advertiser {n}") for n in range(1, ADVERTISERS + 1)
    )
    Offer.objects.bulk_create(
        Offer(
            advertiser=advertisers[n % ADVERTISERS],
            name=f"Offer {n}",
            destination_url="https://store.example/app?cid={click_id}",
        )
        for n in range(1, OFFERS + 1)
    )
    publishers = Publisher.objects.bulk_create(
        Publisher(name=f"Publisher {n}") for n in range(1, args.publishers + 1)
    )
    now = timezone.now()
    configs = [
        PostbackConfig(
            name=f"Publisher {1 + (n - 1) % args.publishers} installs {n}",
            publisher=publishers[(n - 1) % args.publishers],
            url=f"https://pb{n}.publisher-network.example/postback?click_id={{transaction_id}}",
        )
        for n in range(1, args.configs + 1)
    ]
    for config in configs[7::50][:5]:
        config.enabled = False
        config.disabled_reason = "Disabled after 10 consecutive failed deliveries (HTTP 503)."
    PostbackConfig.objects.bulk_create(configs)
    for n, config in enumerate(PostbackConfig.objects.order_by("pk")[:: args.configs // 30]):
        # auto_now sets `updated` on save(); an UPDATE sets the time of the edit.
        PostbackConfig.objects.filter(pk=config.pk).update(
            updated=now - timedelta(hours=n * 23 + 1)
        )


def fill(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(attempts), max(bucket), (SELECT count(*) FROM postbacks_delivery), "
            "EXISTS (SELECT 1 FROM postbacks_coarseattemptrollup) "
            "AND EXISTS (SELECT 1 FROM postbacks_seriesrollup) FROM postbacks_attemptrollup"
        )
        total, newest, deliveries, coarse = cursor.fetchone()
        fresh = newest is not None and (timezone.now() - newest).total_seconds() < 3600
        fresh = fresh and coarse
        if total and total >= 0.98 * args.attempts and deliveries >= args.deliveries and fresh:
            print(
                f"Reusing the {total:,} attempts already in the bench database (--refill to redo)."
            )
            return
        if total:
            print("The bench data is more than an hour old or smaller: filling again.")
        started = time.perf_counter()
        with transaction.atomic():  # all or nothing, so a failed fill is never reused
            _fill(cursor, args, started)
        rollups = ("attemptrollup", "coarseattemptrollup", "seriesrollup", "delivery")
        for table in (*(f"postbacks_{name}" for name in rollups), "offers_conversion"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def _fill(cursor, args: argparse.Namespace, started: float) -> None:
    from django.utils import timezone

    from postbacks.rollups import bucket_start

    cursor.execute(
        "TRUNCATE postbacks_attemptrollup, postbacks_coarseattemptrollup, "
        "postbacks_seriesrollup, postbacks_delivery, "
        "offers_conversion, postbacks_postbackconfig, offers_offer, offers_publisher, "
        "offers_advertiser RESTART IDENTITY CASCADE"
    )
    create_partners(args)
    cursor.execute(rollup_sql(args), {"newest": bucket_start(timezone.now())})
    seconds = time.perf_counter() - started
    print(f"Inserted {cursor.rowcount:,} 5-minute rollup rows in {seconds:.1f} s.")
    cursor.execute(coarse_rollup_sql())
    coarse = cursor.rowcount
    cursor.execute(series_rollup_sql())
    rolled = time.perf_counter()
    print(
        f"Inserted {coarse:,} coarse and {cursor.rowcount:,} series rollup rows; "
        f"{rolled - started:.1f} s in all."
    )
    for statement in conversions_and_deliveries_sql(args):
        cursor.execute(statement)
    print(
        f"Inserted {args.deliveries:,} conversions and deliveries in "
        f"{time.perf_counter() - rolled:.1f} s."
    )


def data_set() -> dict:
    from django.db import connection
    from django.db.models import Count, Max, Min, Sum
    from django.utils import timezone

    from postbacks.models import AttemptRollup, Delivery, PostbackConfig
    from postbacks.stats import backlog

    rollups = AttemptRollup.objects.aggregate(
        rows=Count("pk"),
        attempts=Sum("attempts"),
        configs=Count("config_id", distinct=True),
        first=Min("bucket"),
        last=Max("bucket"),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM (SELECT DISTINCT config_id, offer_id FROM "
                       "postbacks_attemptrollup) AS pairs")  # fmt: skip
        pairs = cursor.fetchone()[0]
        cursor.execute("SELECT pg_total_relation_size('postbacks_attemptrollup')")
        size = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*), pg_total_relation_size('postbacks_coarseattemptrollup') "
            "FROM postbacks_coarseattemptrollup"
        )
        coarse_rows, coarse_size = cursor.fetchone()
        cursor.execute(
            "SELECT count(*), pg_total_relation_size('postbacks_seriesrollup') "
            "FROM postbacks_seriesrollup"
        )
        series_rows, series_size = cursor.fetchone()
    states = dict(
        Delivery.objects.values_list("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    return {
        "rollup_rows": rollups["rows"],
        "rollup_mb": round(size / 1e6),
        "coarse_rollup_rows": coarse_rows,
        "coarse_rollup_mb": round(coarse_size / 1e6),
        "series_rollup_rows": series_rows,
        "series_rollup_mb": round(series_size / 1e6),
        "attempts": rollups["attempts"],
        "configs_with_attempts": rollups["configs"],
        "config_offer_pairs": pairs,
        "first_bucket": rollups["first"].isoformat(),
        "last_bucket": rollups["last"].isoformat(),
        "deliveries": states,
        "backlog": backlog(Delivery.objects.all(), timezone.now()),
        "disabled_configs": PostbackConfig.objects.filter(enabled=False).count(),
    }


def clients() -> tuple:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from offers.models import ApiKey

    user, _ = get_user_model().objects.get_or_create(
        username="bench-ops", defaults={"is_staff": True}
    )
    page = Client()
    page.force_login(user)
    _, raw_key = ApiKey.issue(is_staff=True, name="bench overview")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return page, api


class QueryLog:
    """Counts and times the SQL a request runs; refuses any read of the log table."""

    def __init__(self) -> None:
        self.count, self.seconds = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        if "logs_postbacklog" in sql:
            raise AssertionError(f"The overview read the log table: {sql}")
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.seconds += time.perf_counter() - started


def time_requests(runs: int) -> list[dict]:
    from django.db import connection

    from postbacks.stats import GROUPINGS, WINDOWS

    page, api = clients()
    results = []
    for endpoint, client in (("/", page), ("/api/v1/stats/", api)):
        for window in WINDOWS:
            for by in GROUPINGS:
                path = f"{endpoint}?window={window}&by={by}"
                response = client.get(path)  # warm up and check it works
                assert response.status_code == 200, (path, response.status_code)
                timings = []
                for _ in range(runs):
                    started = time.perf_counter()
                    client.get(path)
                    timings.append((time.perf_counter() - started) * 1000)
                queries = QueryLog()
                with connection.execute_wrapper(queries):
                    client.get(path)
                timings.sort()
                results.append(
                    {
                        "endpoint": endpoint,
                        "window": window,
                        "by": by,
                        "p50_ms": round(statistics.median(timings), 1),
                        "p90_ms": round(timings[min(runs - 1, int(runs * 0.9))], 1),
                        "queries": queries.count,
                        "sql_ms": round(queries.seconds * 1000, 1),
                    }
                )
    return results


def plans(window: str = "30d") -> dict[str, str]:
    """The main nodes of the plans of the rollup queries that /api/v1/stats/ runs."""
    from django.db import connection

    from postbacks import stats

    captured: list[tuple[str, object]] = []

    def capture(execute, sql, params, many, context):
        if "rollup" in sql:
            captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        stats.figures(window, "config")
    summaries = {}
    for number, (sql, params) in enumerate(captured, 1):
        table = next(
            (name for name in ("coarse", "series") if f"postbacks_{name}" in sql), "5-minute"
        )
        kind = "series" if '"bucket"' in sql.split("FROM")[0] else "groups"
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            lines = [row[0] for row in cursor.fetchall()]
        nodes = []
        for line in lines:
            text = line.strip().removeprefix("->").strip().split("  (")[0]
            if "Scan" in text or "Aggregate" in text or "Gather" in text or "BitmapOr" in text:
                nodes.append(text)
        summaries[f"{number}. {kind}, {table}"] = " → ".join(nodes)
    return summaries


def first_version(runs: int) -> list[dict]:
    """The same-run baseline: the first version's query, every 5-minute row of the
    window summed per group (what summed() does from the coarse rows instead)."""
    from django.db.models import Sum
    from django.utils import timezone

    from postbacks.models import AttemptRollup
    from postbacks.rollups import COUNT_COLUMNS
    from postbacks.stats import GROUPINGS, WINDOWS, window_start

    sums = {column: Sum(column) for column in COUNT_COLUMNS}
    results = []
    for window in WINDOWS:
        for by, key in GROUPINGS.items():
            timings = []
            for _ in range(runs):
                rows = AttemptRollup.objects.filter(
                    bucket__gte=window_start(window, timezone.now())
                )
                started = time.perf_counter()
                list(rows.values(key).annotate(**sums).order_by(key))
                timings.append((time.perf_counter() - started) * 1000)
            results.append(
                {"window": window, "by": by, "p50_ms": round(statistics.median(timings), 1)}
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--configs", type=int, default=400)
    parser.add_argument("--publishers", type=int, default=300)
    parser.add_argument("--deliveries", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--refill", action="store_true")
    parser.add_argument("--database", default="integr8_bench_overview")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()

    bench_url = own_database(args.database, args.refill)
    setup_django(bench_url)
    fill(args)

    data = data_set()
    print(
        f"\nData: {data['attempts']:,} attempts in {data['rollup_rows']:,} 5-minute rollup rows "
        f"({data['rollup_mb']:,} MB) and {data['coarse_rollup_rows']:,} coarse ones "
        f"({data['coarse_rollup_mb']:,} MB; {data['config_offer_pairs']:,} config × offer pairs of "
        f"{data['configs_with_attempts']} configs), {data['series_rollup_rows']:,} series rows "
        f"({data['series_rollup_mb']:,} MB) from {data['first_bucket']} to "
        f"{data['last_bucket']}; deliveries {data['deliveries']}; backlog {data['backlog']}; "
        f"{data['disabled_configs']} configs disabled."
    )
    print("\nPlans of the rollup queries of /api/v1/stats/?window=30d&by=config:")
    plan_summaries = plans()
    for label, summary in plan_summaries.items():
        print(f"  {label:<20} {summary}")

    baseline = first_version(args.baseline_runs)
    before = {(row["window"], row["by"]): row["p50_ms"] for row in baseline}
    results = time_requests(args.runs)
    print(f"\nServer time over {args.runs} runs (target p50 < {TARGET_MS} ms); baseline: the")
    print(f"first version's groups query alone (5-minute rows only), p50 of {args.baseline_runs}")
    print(f"{'endpoint':<16} {'window':>6} {'by':<10} {'p50 ms':>8} {'p90 ms':>8} "
          f"{'queries':>8} {'SQL ms':>8} {'baseline ms':>12}")  # fmt: skip
    for row in results:
        mark = "" if row["p50_ms"] < TARGET_MS else "  MISSED"
        print(
            f"{row['endpoint']:<16} {row['window']:>6} {row['by']:<10} {row['p50_ms']:>8.1f} "
            f"{row['p90_ms']:>8.1f} {row['queries']:>8} {row['sql_ms']:>8.1f} "
            f"{before[(row['window'], row['by'])]:>12.1f}{mark}"
        )
    if args.json:
        figures = {
            "target_p50_ms": TARGET_MS,
            "runs": args.runs,
            "data": data,
            "plans_30d": plan_summaries,
            "cases": results,
            "baseline_first_version_groups_query": baseline,
        }
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str) + "\n")
        print(f"\nFigures written to {args.json}.")


if __name__ == "__main__":
    main()
