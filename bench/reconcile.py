"""Two-sided reconciliation: 100,000 uploaded rows against 1,000,000 conversions (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/reconcile.py
        [--conversions 1000000] [--rows 100000] [--runs 3] [--refill]
        [--database integr8_bench_reconcile] [--json FILE]

DATABASE_URL names the server; the script creates its own database, fills it once with
INSERT … SELECT FROM generate_series (reused unless --refill): --conversions conversions
over 30 days for 10 publishers; the reconciled publisher has a tenth of them, those of the
last 30 days its month. Their report (CSV, built in memory) lists all but 2 % of that
publisher's conversions of the month, plus 2 % transaction IDs unknown to us; the 2 % we
alone have have deliveries in every state (succeeded ones with their log row), so every
reason is looked up. Prints the time of reports.matching.match (parse, match, reasons)
over --runs, and beside it the same-run baseline: the naive version, one ORM query per
uploaded row, timed on 5,000 rows and scaled to the file. Target (SPEC §13): < 10 s.
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

TARGET_SECONDS = 10
PUBLISHERS = 10
MISSING_EVERY = 50  # 1 in 50 of our conversions is not in their report (2 %)
NAIVE_SAMPLE = 5000


def fill(conversions: int) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    from offers.models import Advertiser, Offer, Publisher
    from postbacks.models import PostbackConfig

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM offers_conversion")
        if cursor.fetchone()[0] >= conversions:
            print(f"Reusing the {conversions:,} conversions in the bench database (--refill).")
            return
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        advertiser = Advertiser.objects.create(name="Advertiser")
        offer = Offer.objects.create(
            advertiser=advertiser, name="Offer", destination_url="https://store.example/"
        )
        publishers = [Publisher.objects.create(name=f"Publisher {n}") for n in range(PUBLISHERS)]
        config = PostbackConfig.objects.create(
            name="Publisher 0 installs",
            publisher=publishers[0],
            url="https://pb.example/?t={transaction_id}",
        )
        cursor.execute(
            f"""
INSERT INTO offers_conversion (transaction_id, click_id, offer_id, publisher_id, event_id,
    status, revenue, payout, currency, order_id, rejection_reason, dedupe_key, install_id,
    publisher_name, attributes, created, updated)
SELECT 'txn' || g, NULL, {offer.pk}, {publishers[0].pk} + g % {PUBLISHERS}, NULL, 'approved',
    2.5, 1.75, 'USD', '', '', 'txn' || g || '||', '', '', '{{}}'::jsonb,
    now() - interval '1 hour' - g * interval '{30 * 86400 / conversions} seconds', now()
FROM generate_series(1, {conversions}) AS g
"""  # noqa: S608 (numbers only)
        )
        # The publisher's conversions its report will not list get deliveries in every
        # state; the succeeded ones a log row each (the reason's "2xx at <time>").
        cursor.execute(
            f"""
INSERT INTO postbacks_delivery (config_id, postback_type, click_id, conversion_id, state,
    attempts, max_attempts, next_attempt_at, locked_until, in_flight, next_trigger,
    claim_token, refire_requested, webhook_id, last_response_code, last_error, created,
    updated)
SELECT {config.pk}, 'conversion', NULL, id,
    (ARRAY['succeeded', 'failed', 'pending', 'skipped', 'cancelled'])[1 + (id / 500) % 5],
    1, 5, now() + interval '5 minutes', created, false, 'retry', '', false,
    'msg_' || md5(id::text), CASE WHEN (id / 500) % 5 = 0 THEN 200 ELSE 503 END,
    CASE WHEN (id / 500) % 5 = 0 THEN '' ELSE 'HTTP 503' END, created, created
FROM offers_conversion
WHERE publisher_id = {publishers[0].pk} AND (id / {PUBLISHERS}) % {MISSING_EVERY} = 0
"""  # noqa: S608
        )
        cursor.execute(
            """
INSERT INTO logs_postbacklog (created, status, postback_name, postback_type, offer_id,
    publisher_id, event_id, transaction_id, response_code, url, error, server_response,
    method, attempt, duration_ms, trigger, request_headers, request_body, webhook_id,
    delivery_id, config_id, conversion_id, click_id, config_version)
SELECT d.created, 'success', 'Publisher 0 installs', 'conversion', c.offer_id,
    c.publisher_id, NULL, c.transaction_id, 200, 'https://pb.example/', '', 'OK', 'GET', 1,
    80, 'automatic', '{}'::jsonb, '', d.webhook_id, d.id, d.config_id, c.id, NULL, 1
FROM postbacks_delivery d JOIN offers_conversion c ON c.id = d.conversion_id
WHERE d.state = 'succeeded'
"""
        )
    with connection.cursor() as cursor:
        for table in ("offers_conversion", "postbacks_delivery", "logs_postbacklog"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"Filled {conversions:,} conversions in {time.perf_counter() - started:.1f} s.")


def their_report(rows: int) -> tuple[bytes, object, object]:
    """Their CSV: our month's conversions but 1 in 50, and 2 % IDs unknown to us."""
    from datetime import timedelta

    from django.utils import timezone

    from offers.models import Conversion, Publisher
    from reports.reconciliation import Period

    publisher = Publisher.objects.order_by("pk").first()
    today = timezone.now().date()
    period = Period(today - timedelta(days=30), today)
    ours = Conversion.objects.filter(
        publisher=publisher, created__gte=period.start, created__lt=period.end
    ).values_list("pk", "transaction_id")
    unknown = [f"unknown-{n}" for n in range(rows // MISSING_EVERY)]
    listed = [
        tid for pk, tid in ours.iterator(chunk_size=10000) if (pk // PUBLISHERS) % MISSING_EVERY
    ][: rows - len(unknown)]
    lines = ["Click ID,Payout,Country"] + [f"{tid},1.75,US" for tid in listed + unknown]
    return ("\r\n".join(lines) + "\r\n").encode(), publisher, period


def naive_seconds(content: bytes, publisher, period) -> float:
    """The first version's way: every uploaded row looked up on its own."""
    from offers.models import Conversion

    lines = content.decode().splitlines()[1 : NAIVE_SAMPLE + 1]
    started = time.perf_counter()
    for line in lines:
        transaction_id = line.split(",")[0]
        Conversion.objects.filter(
            publisher=publisher,
            transaction_id=transaction_id,
            created__gte=period.start,
            created__lt=period.end,
        ).exists()
    per_row = (time.perf_counter() - started) / len(lines)
    return per_row * (content.count(b"\n") - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversions", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--refill", action="store_true")
    parser.add_argument("--database", default="integr8_bench_reconcile")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    bench_url = own_database(args.database, args.refill)
    setup_django(bench_url)
    fill(args.conversions)

    from reports.matching import Columns, match

    content, publisher, period = their_report(args.rows)
    uploaded = content.count(b"\n") - 1
    print(
        f"Their report: {uploaded:,} rows, {len(content) / 1e6:.1f} MB, "
        f"publisher #{publisher.pk}, {period.date_from} to {period.date_to}."
    )
    timings, found = [], None
    for _ in range(args.runs):
        started = time.perf_counter()
        found = match(content, publisher, period, Columns("Click ID"))
        timings.append(time.perf_counter() - started)
    assert found is not None
    reasons: dict[str, int] = {}
    for row in found.ours_only:
        reasons[row["reason"]] = reasons.get(row["reason"], 0) + 1
    baseline = naive_seconds(content, publisher, period)
    median = statistics.median(timings)
    print(
        f"match(): median {median:.2f} s over {args.runs} (min {min(timings):.2f}, max "
        f"{max(timings):.2f}); in both {found.both:,}, ours only {len(found.ours_only):,} "
        f"{reasons}, theirs only {len(found.theirs_only):,}."
    )
    verdict = "met" if median < TARGET_SECONDS else "MISSED"
    print(
        f"baseline (one query per uploaded row, {NAIVE_SAMPLE:,} timed, scaled): "
        f"{baseline:.1f} s; target < {TARGET_SECONDS} s: {verdict}."
    )
    if args.json:
        figures = {
            "conversions": args.conversions,
            "uploaded_rows": uploaded,
            "match_seconds": [round(t, 3) for t in timings],
            "match_median_seconds": round(median, 3),
            "baseline_seconds": round(baseline, 1),
            "both": found.both,
            "ours_only": reasons,
            "theirs_only": len(found.theirs_only),
            "target_seconds": TARGET_SECONDS,
        }
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
