"""The retention purge on PostgreSQL: dropping 30 expired days of log partitions, and
delivery while it runs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/retention.py
        [--rows-per-day 50000] [--days 30] [--conversions 6000] [--database integr8_bench_retention]
        [--json FILE]

DATABASE_URL names the server; the bench (re)creates its own database. It fills --days
expired days (older than LOG_RETENTION_DAYS) with --rows-per-day attempts each, every
/logs/ index in place, then:
- baseline: the batched DELETE (the SQLite purge, and what this table did before it was
  partitioned) for 5 s, as rows/s and the time it would take for all the expired rows;
- delivery without a purge: a real qcluster sending --conversions postbacks to a
  loopback receiver (bench/postbacks.py's), postbacks/s;
- the same delivery with `privacy.retention.purge_logs` started once a fifth has arrived:
  how long the purge took, and postbacks/s while it ran against the run without.
Targets (issue 13): the purge under 5 s; delivery during it ≥ 0.8× of without.
"""

import argparse
import json
import os
import sys
import time
from datetime import UTC, timedelta
from multiprocessing import Process, Queue
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pgbench_database import own_database  # noqa: E402
from bench.postbacks import (  # noqa: E402
    ReceiverClient,
    create_conversions,
    django_setup,
    rate,
    seed,
    serve_receiver,
    start_worker,
    stop_worker,
)

FILL_SQL = """
INSERT INTO logs_postbacklog (
    created, status, postback_name, postback_type, offer_id, publisher_id, transaction_id,
    response_code, url, error, server_response, method, attempt, duration_ms, trigger,
    request_headers, request_body, webhook_id
)
SELECT
    %(start)s::timestamptz + g * (86400.0 / %(per_day)s) * interval '1 second',
    CASE WHEN g %% 10 = 0 THEN 'failed' ELSE 'success' END,
    'Publisher ' || g %% 300 || ' installs', 'conversion', 1 + g %% 500, 1 + g %% 300,
    md5(%(seed)s || g::text), CASE WHEN g %% 10 = 0 THEN 502 ELSE 200 END,
    'https://pb' || g %% 300 || '.publisher-network.example/postback?click_id='
        || md5(%(seed)s || g::text) || '&payout=1.75',
    CASE WHEN g %% 10 = 0 THEN 'HTTP 502' ELSE '' END,
    CASE WHEN g %% 10 = 0 THEN '<html>502 Bad Gateway</html>' ELSE 'OK' END,
    'GET', 1, 20 + g %% 900, 'automatic', '{}'::jsonb, '', 'msg_' || md5(%(seed)s || g::text)
FROM generate_series(0, %(per_day)s - 1) AS g
"""


def fill(days: int, per_day: int) -> tuple[list, float]:
    """--days expired days of rows, each in its partition; (the days, seconds taken)."""
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from postbacks import partitions

    today = timezone.now().astimezone(UTC).date()
    first = today - timedelta(days=settings.LOG_RETENTION_DAYS + days)
    expired = [first + timedelta(days=n) for n in range(days)]
    partitions.ensure_days(expired)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for day in expired:
            start = partitions.partition_for(day).start
            cursor.execute(FILL_SQL, {"start": start, "per_day": per_day, "seed": str(day)})
        cursor.execute("ANALYZE logs_postbacklog")
    return expired, time.perf_counter() - started


def batched_delete_rate(day, seconds: float) -> float:
    """The batched DELETE's rows/s on one expired day, for `seconds`."""
    from postbacks import partitions
    from postbacks.models import PostbackLog
    from privacy import retention

    partition = partitions.partition_for(day)
    rows = PostbackLog.objects.filter(created__gte=partition.start, created__lt=partition.end)
    started = time.perf_counter()
    deleted, _ = retention._in_batches(rows, time.monotonic() + seconds)
    return deleted / (time.perf_counter() - started)


def deliver(receiver: ReceiverClient, offer, publishers, count: int, purge_at: float | None):
    """Send `count` postbacks through a real qcluster; with `purge_at`, run the purge once
    that share has arrived. The figures of the run (and of the purge)."""
    from django.conf import settings
    from django.utils import timezone

    from privacy import retention

    create_conversions(offer, publishers, count)
    receiver.reset()
    worker = start_worker()
    started = time.monotonic()
    result: dict = {}
    try:
        while time.monotonic() - started < 300:
            stats = receiver.stats()
            if purge_at is not None and "purge_seconds" not in result:
                if stats["count"] >= count * purge_at:
                    result.update(purge(receiver, retention, settings, timezone))
            if stats["count"] >= count:
                break
            time.sleep(0.1)
    finally:
        stop_worker(worker)
    result["rate"] = rate(receiver.stats())
    return result


def purge(receiver: ReceiverClient, retention, settings, timezone) -> dict:
    before_count = receiver.stats()["count"]
    window_start = time.time()
    started = time.perf_counter()
    cutoff = timezone.now() - timedelta(days=settings.LOG_RETENTION_DAYS)
    deleted, done = retention.purge_logs(cutoff, time.monotonic() + 60)
    seconds = time.perf_counter() - started
    time.sleep(max(0.0, 1.0 - seconds))  # measure delivery over at least a second
    after_count = receiver.stats()["count"]
    window = time.time() - window_start
    return {
        "purge_seconds": seconds,
        "purged_rows": deleted,
        "purge_finished": done,
        "rate_during_purge": (after_count - before_count) / window,
        "window_seconds": window,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows-per-day", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--conversions", type=int, default=6000)
    parser.add_argument("--publishers", type=int, default=20)
    parser.add_argument("--database", default="integr8_bench_retention")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON here")
    args = parser.parse_args()
    # Always afresh: a purge leaves nothing to reuse.
    os.environ["DATABASE_URL"] = own_database(args.database, refill=True)

    port_queue: Queue = Queue()
    server = Process(target=serve_receiver, args=(port_queue,), daemon=True)
    server.start()
    receiver = ReceiverClient(port_queue.get(timeout=10))

    django_setup(str(ROOT))  # migrates the bench database
    from django.conf import settings
    from django_q.models import Schedule

    from postbacks import partitions

    # The worker would run the hourly purge as it starts: only this script purges here.
    Schedule.objects.filter(name="privacy.purge").delete()
    expired, fill_seconds = fill(args.days, args.rows_per_day)
    total = args.days * args.rows_per_day
    print(
        f"PostgreSQL, broker {'Redis' if settings.REDIS_URL else 'ORM'}: {total:,} expired rows "
        f"in {args.days} day partitions ({args.rows_per_day:,}/day), filled in "
        f"{fill_seconds:.1f} s ({total / fill_seconds:,.0f} rows/s with every index)"
    )

    delete_rate = batched_delete_rate(expired[0], 5.0)
    print(
        f"baseline, batched DELETE:  {delete_rate:10,.0f} rows/s "
        f"-> {total / delete_rate:8.1f} s for all {args.days} days"
    )

    offer, publishers = seed(int(receiver.base.rsplit(":", 1)[1]), args.publishers, hanging=0)
    without = deliver(receiver, offer, publishers, args.conversions, purge_at=None)
    print(f"delivery without a purge:  {without['rate']:10,.0f} postbacks/s")
    during = deliver(receiver, offer, publishers, args.conversions, purge_at=0.2)
    left = [p.name for p in partitions.partitions() if p.day in set(expired)]
    print(
        f"purge (drop partitions):   {during['purge_seconds']:10.2f} s for "
        f"{during['purged_rows']:,} rows ({len(expired) - len(left)} of {len(expired)} days "
        f"dropped; target < 5 s; the batched DELETE would take "
        f"{during['purged_rows'] / delete_rate:,.0f} s)"
    )
    ratio = during["rate_during_purge"] / without["rate"]
    print(
        f"delivery during the purge: {during['rate_during_purge']:10,.0f} postbacks/s over "
        f"{during['window_seconds']:.1f} s = {ratio:.2f}x without (target >= 0.8x); "
        f"whole run {during['rate']:,.0f}/s"
    )
    server.terminate()
    figures = {
        "expired_rows": total,
        "days": args.days,
        "fill_rows_per_second": round(total / fill_seconds),
        "baseline_batched_delete_rows_per_second": round(delete_rate),
        "purge_seconds": round(during["purge_seconds"], 3),
        "purged_rows": during["purged_rows"],
        "days_left": len(left),
        "postbacks_per_second_without_purge": round(without["rate"], 1),
        "postbacks_per_second_during_purge": round(during["rate_during_purge"], 1),
        "during_vs_without": round(ratio, 3),
    }
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
