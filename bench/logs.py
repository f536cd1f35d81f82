"""/logs/ and its CSV export on 1,000,000 (or --rows 10000000) log rows in PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/logs.py
        [--rows 1000000] [--days 60] [--refill] [--runs 9] [--database integr8_bench_logs]
        [--json FILE]

DATABASE_URL names the server (its database part is ignored): the script creates and
uses its own database (default integr8_bench_logs), fills it once with realistic rows by
one INSERT … SELECT FROM generate_series, spread over the last --days days with one
partition a day (reused on the next run unless --refill), and prints:
- server time (p50 and p90 over --runs) of the /logs/ first page for Is, Is not and
  Contains filters, the issue's combined example and a deep page, through Django's
  request handler with a logged-in staff user (template rendering included);
- the query plan's main node for each, to show which index serves it;
- what the filter indexes cost each insert: µs per row into the log table, beside a
  copy of it with only the primary key;
- /logs/export.csv of every row: rows/s and peak RSS of a separate process, beside
  `COPY (same rows) TO STDOUT` in the same run.
Targets (SPEC §9): page p50 < 50 ms, no full COUNT(*); CSV ≥ 0.5× COPY rows/s, RSS < 100 MB.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pgbench_database import own_database, setup_django  # noqa: E402

FILL_SQL = """
INSERT INTO logs_postbacklog (
    created, status, postback_name, postback_type, offer_id, publisher_id, event_id,
    transaction_id, response_code, url, error, server_response, method, attempt,
    duration_ms, trigger, request_headers, request_body, webhook_id
)
SELECT
    now() - ((%(rows)s - g) * %(spacing)s * interval '1 second'),
    CASE WHEN code BETWEEN 200 AND 299 THEN 'success' ELSE 'failed' END,
    'Publisher ' || publisher || CASE kind WHEN 'click' THEN ' clicks' WHEN 'event'
        THEN ' in-app events' WHEN 'rejection' THEN ' rejections' ELSE ' installs' END,
    kind,
    offer,
    publisher,
    CASE WHEN kind = 'event' THEN 1000 + (offer * 7 + g) %% 40 END,
    txn,
    code,
    'https://pb' || publisher || '.publisher-network.example/postback?click_id=' || txn
        || '&offer_id=' || offer || '&payout=1.75&currency=USD&goal='
        || CASE WHEN kind = 'event' THEN 'purchase' ELSE 'install' END
        || '&ts=' || (1790000000 + g),
    CASE code
        WHEN 200 THEN '' WHEN 204 THEN ''
        WHEN 0 THEN (ARRAY['Timeout after 10 s', 'Connection refused',
            'DNS lookup failed for pb' || publisher || '.publisher-network.example',
            'Blocked: 10.0.0.5 is a private address'])[1 + g %% 4]
        ELSE 'HTTP ' || code END,
    CASE code
        WHEN 200 THEN (ARRAY['OK', '{"status":"ok","id":"' || md5(txn) || '"}', 'success=1',
            '<html><body>Postback received</body></html>'])[1 + g %% 4]
        WHEN 204 THEN ''
        WHEN 0 THEN ''
        WHEN 400 THEN '{"error":"Missing parameter: goal","request_id":"' || md5(txn) || '"}'
        WHEN 401 THEN '{"error":"Invalid token"}'
        WHEN 404 THEN '<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>'
            || '<h1>Not Found</h1><p>The requested URL was not found on this server.</p>'
            || repeat('<!-- padding -->', 20) || '</body></html>'
        WHEN 429 THEN 'Too many requests, retry later'
        ELSE '<html><head><title>' || code || ' Server Error</title></head><body><center><h1>'
            || code || ' Bad Gateway</h1></center><hr><center>nginx</center></body></html>'
        END,
    'GET',
    1 + (g %% 5),
    (20 + (g::bigint * 7919) %% 900),
    CASE WHEN g %% 5 = 0 THEN 'automatic' ELSE 'retry' END,
    '{}'::jsonb,
    '',
    'msg_' || md5(g::text)
FROM (
    SELECT
        g,
        1 + (hashint %% 500) AS offer,
        1 + ((hashint / 500) %% 300) AS publisher,
        (ARRAY['click', 'click', 'conversion', 'conversion', 'conversion', 'event', 'event',
            'rejection'])[1 + (hashint / 7) %% 8] AS kind,
        substr(translate(encode(sha256(g::text::bytea), 'base64'), '+/=', '-_x'), 1, 24)
            AS txn,
        (ARRAY[200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 204,
            0, 400, 401, 404, 429, 500, 502, 503])[1 + (hashint / 11) %% 23] AS code
    FROM (
        SELECT g, hashint4(g)::bigint & 2147483647 AS hashint
        FROM generate_series(%(first)s::int, %(last)s::int) AS g
    ) AS numbered
) AS rows
"""

CASES = [
    ("first page, no filter", "/logs/"),
    ("Is: publisher_id=42", "/logs/?publisher_id=42"),
    ("Is: status=Failed", "/logs/?status=Failed"),
    (
        "Is any-of: response_code=500&response_code=502",
        "/logs/?response_code=500&response_code=502",
    ),
    ("Is: transaction_id=<one row>", "/logs/?transaction_id={txn}"),
    ("Is not: status__not=success", "/logs/?status__not=success"),
    ("Is not: event_id__not=1005", "/logs/?event_id__not=1005"),
    ("Contains: url__contains=pb42.publisher", "/logs/?url__contains=pb42.publisher"),
    (
        "Contains: server_response__contains=missing parameter",
        "/logs/?server_response__contains=missing+parameter",
    ),
    ("Contains: error__contains=refused", "/logs/?error__contains=refused"),
    ("Contains: transaction_id__contains=<8 chars>", "/logs/?transaction_id__contains={txn8}"),
    (
        "Contains: postback_name__contains=publisher 7 in-app",
        "/logs/?postback_name__contains=publisher+7+in-app",
    ),
    ("Contains (number): response_code__contains=40", "/logs/?response_code__contains=40"),
    ("Contains (number): offer_id__contains=499", "/logs/?offer_id__contains=499"),
    (
        "Combined: failed, publisher 12, response contains 'missing parameter'",
        "/logs/?status=failed&publisher_id=12&server_response__contains=missing+parameter",
    ),
    ("Time range: last 6 hours, failed", "/logs/?created_after={six_hours_ago}&status=failed"),
    ("Deep page: before=<id 100,000> (all but 100,000 rows deep)", "/logs/?before={deep}"),
    (
        "Deep page with filter: status=failed&before=<id 100,000>",
        "/logs/?status=failed&before={deep}",
    ),
]


def fill(rows: int, days: int, bench_url: str) -> None:
    """`rows` attempts spread over the last `days` days, each day in its partition.

    Loaded and indexed on one connection per core: two INSERTs of half the rows each,
    then each partition's indexes built apart and attached to the parent's.
    """
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from postbacks import partitions

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM (SELECT 1 FROM logs_postbacklog LIMIT %s) t", [rows])
        if cursor.fetchone()[0] >= rows:
            print(f"Reusing the {rows:,} rows already in the bench database (--refill to redo).")
            return
        statements = filter_index_statements()
        started = time.perf_counter()
        cursor.execute("TRUNCATE logs_postbacklog RESTART IDENTITY CASCADE")
        today = timezone.now().date()
        partitions.ensure_days([today - timedelta(days=n) for n in range(days + 1)])
        for name, _ in statements:  # build indexes once after the load, not row by row
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
    half = rows // 2
    spacing = days * 86400 / rows
    in_parallel(
        bench_url,
        [
            (FILL_SQL, {"rows": rows, "spacing": spacing, "first": 1, "last": half}),
            (FILL_SQL, {"rows": rows, "spacing": spacing, "first": half + 1, "last": rows}),
        ],
    )
    loaded = time.perf_counter()
    print(f"Inserted {rows:,} rows in {loaded - started:.1f} s (INSERT … generate_series).")
    tables = [partition.name for partition in partitions.partitions()] + [partitions.DEFAULT]
    parents, children, attaches = [], [], []
    for name, statement in statements:
        rest = statement.split(" ON logs_postbacklog ", 1)[1]
        parents.append((f"CREATE INDEX {name} ON ONLY logs_postbacklog {rest}", None))
        for table in tables:
            children.append((f"CREATE INDEX {table}_{name} ON {table} {rest}", None))
            attaches.append((f"ALTER INDEX {name} ATTACH PARTITION {table}_{name}", None))
    in_parallel(bench_url, parents)
    in_parallel(bench_url, children)
    in_parallel(bench_url, attaches, workers=1)
    in_parallel(bench_url, [(f"VACUUM ANALYZE {table}", None) for table in tables])
    print(
        f"Built {len(statements)} indexes on {len(tables)} partitions + VACUUM ANALYZE in "
        f"{time.perf_counter() - loaded:.1f} s."
    )


def in_parallel(url: str, statements: list[tuple[str, dict | None]], workers: int = 2) -> None:
    """Run the statements on `workers` connections of their own (autocommit)."""
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    pending = list(reversed(statements))

    def run() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '512MB'")
            while pending:
                sql, params = pending.pop()
                conn.execute(sql, params)

    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(run) for _ in range(workers)]:
            future.result()


def filter_index_statements() -> list[tuple[str, str]]:
    """The /logs/ filter indexes of logs 0002, built on the partitioned table (where
    CREATE INDEX cannot be CONCURRENTLY, and need not be: the bench is alone)."""
    index_module = __import__(
        "logs.migrations.0002_postgres_filter_indexes", fromlist=["index_statements"]
    )
    names_module = __import__("logs.migrations.0005_postback_names", fromlist=["TRIGRAM_INDEX"])
    return [
        (name, statement.replace(" CONCURRENTLY", ""))
        for name, statement in index_module.index_statements()
        if name != names_module.TRIGRAM_INDEX  # dropped by logs 0005
    ]


def insert_cost(rows: int = 20_000) -> tuple[float, float]:
    """µs per inserted row into the log table with every index, and into a copy of it with
    only the primary key; both rolled back, so the bench database stays as it was."""
    from django.db import connection, transaction

    timings = []
    for table in ("logs_postbacklog", "insert_cost_bare"):
        with transaction.atomic(), connection.cursor() as cursor:
            if table == "insert_cost_bare":
                cursor.execute(
                    f"CREATE TEMP TABLE {table} (LIKE logs_postbacklog INCLUDING DEFAULTS "
                    "INCLUDING IDENTITY, PRIMARY KEY (id))"
                )
            sql = FILL_SQL.replace("INSERT INTO logs_postbacklog", f"INSERT INTO {table}")
            started = time.perf_counter()
            cursor.execute(sql, {"rows": rows, "spacing": 0.01, "first": 1, "last": rows})
            timings.append((time.perf_counter() - started) / rows * 1e6)
            transaction.set_rollback(True)
    return timings[0], timings[1]


def staff_client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(
        username="bench-ops", defaults={"is_staff": True}
    )
    client = Client()
    client.force_login(user)
    return client


def placeholders() -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from postbacks.models import PostbackLog

    newest = PostbackLog.objects.order_by("-id").values("id", "transaction_id").first()
    middle = PostbackLog.objects.filter(id=newest["id"] // 2).values("transaction_id").first()
    return {
        "txn": middle["transaction_id"],
        "txn8": middle["transaction_id"][3:11],
        "deep": 100_000,
        "six_hours_ago": (timezone.now() - timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def plan_summary(path: str) -> str:
    """The scan nodes PostgreSQL picks for the page query (which indexes serve it)."""
    from django.db import connection
    from django.http import QueryDict

    from logs.filters import filter_logs
    from logs.views import PAGE_PARAMETERS, PAGE_SIZE

    query = path.partition("?")[2]
    params = QueryDict(query)
    queryset, errors = filter_logs(params, ignore=PAGE_PARAMETERS)
    assert not errors, errors
    if "before" in params:
        queryset = queryset.filter(id__lt=int(params["before"]))
    sql, sql_params = queryset.values("id")[: PAGE_SIZE + 1].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, sql_params)
        lines = [row[0] for row in cursor.fetchall()]
    nodes = []
    for line in lines:
        text = line.strip().removeprefix("->").strip()
        if " on " in text and ("Scan" in text):
            nodes.append(text.split("  (")[0])
    return "; ".join(nodes)


def time_pages(runs: int) -> list[tuple[str, float, float, str]]:
    from django.db import connection, reset_queries

    client = staff_client()
    values = placeholders()
    results = []
    for label, template in CASES:
        path = template.format(**values)
        response = client.get(path)  # warm the cache and check it works
        assert response.status_code == 200, (path, response.status_code)
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        reset_queries()
        with connection.execute_wrapper(_no_count_guard):
            client.get(path)
        timings.sort()
        p90 = timings[min(len(timings) - 1, int(len(timings) * 0.9))]
        results.append((label, statistics.median(timings), p90, plan_summary(path)))
    return results


def _no_count_guard(execute, sql, params, many, context):
    if "COUNT(" in sql.upper():
        raise AssertionError(f"COUNT in a page query: {sql}")
    return execute(sql, params, many, context)


def copy_baseline() -> tuple[int, float]:
    from django.db import connection

    from logs.export import FIELDS

    columns = ", ".join(FIELDS)
    sql = (
        f"COPY (SELECT {columns} FROM logs_postbacklog ORDER BY id DESC) "
        "TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    connection.ensure_connection()
    raw = connection.connection
    size = 0
    started = time.perf_counter()
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for block in copy:
            size += len(block)
    elapsed = time.perf_counter() - started
    return size, elapsed


def csv_child() -> None:
    """Run in a separate process: stream /logs/export.csv to nowhere, report rows and RSS."""
    client = staff_client()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = client.get("/logs/export.csv")
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{elapsed} {size} {lines} {rss_before} {peak}")


def run_csv_child(bench_url: str) -> tuple[float, int, int, int, int]:
    env = dict(os.environ, DATABASE_URL=bench_url)
    output = subprocess.run(
        [sys.executable, __file__, "--csv-child"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    elapsed, size, lines, rss_before, peak = output
    return float(elapsed), int(size), int(lines), int(rss_before), int(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=60, help="the rows' span, one partition a day")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--refill", action="store_true")
    parser.add_argument("--database", default="integr8_bench_logs")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON here")
    parser.add_argument("--csv-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.csv_child:
        setup_django(os.environ["DATABASE_URL"])
        csv_child()
        return
    bench_url = own_database(args.database, args.refill)
    setup_django(bench_url)
    fill(args.rows, args.days, bench_url)

    from postbacks.models import PostbackLog

    total = PostbackLog.objects.count()  # once, for the report; pages never count
    print(f"\n/logs/ server time over {args.runs} runs, {total:,} rows (target p50 < 50 ms)")
    print(f"{'case':<70} {'p50 ms':>8} {'p90 ms':>8}  plan")
    pages = time_pages(args.runs)
    for label, p50, p90, plan in pages:
        print(f"{label:<70} {p50:>8.1f} {p90:>8.1f}  {plan}")

    with_indexes, bare = insert_cost()
    print(
        f"\nInsert cost: {with_indexes:.1f} µs per row with every /logs/ index, {bare:.1f} µs "
        f"into a copy with only the primary key: the filter indexes cost "
        f"{with_indexes - bare:.1f} µs per attempt logged"
    )

    print(f"\nCSV export of all {total:,} rows")
    copy_bytes, copy_seconds = copy_baseline()
    csv_seconds, csv_bytes, csv_lines, rss_before, rss_peak = run_csv_child(bench_url)
    copy_rate = total / copy_seconds
    csv_rate = (csv_lines - 1) / csv_seconds
    print(
        f"COPY … TO STDOUT (baseline): {copy_seconds:6.2f} s  {copy_rate:>10,.0f} rows/s  "
        f"{copy_bytes / 1e6:,.0f} MB"
    )
    print(
        f"/logs/export.csv           : {csv_seconds:6.2f} s  {csv_rate:>10,.0f} rows/s  "
        f"{csv_bytes / 1e6:,.0f} MB  = {csv_rate / copy_rate:.2f}x COPY (target >= 0.5x)"
    )
    print(
        f"export process peak RSS    : {rss_peak / 1024:.0f} MB "
        f"(before the request {rss_before / 1024:.0f} MB; target < 100 MB)"
    )
    if args.json:
        figures = {
            "rows": total,
            "days": args.days,
            "pages": [
                {"case": label, "p50_ms": round(p50, 2), "p90_ms": round(p90, 2), "plan": plan}
                for label, p50, p90, plan in pages
            ],
            "insert_us_per_row_with_indexes": round(with_indexes, 1),
            "insert_us_per_row_primary_key_only": round(bare, 1),
            "copy_rows_per_second": round(copy_rate),
            "csv_rows_per_second": round(csv_rate),
            "csv_vs_copy": round(csv_rate / copy_rate, 3),
            "csv_peak_rss_mb": round(rss_peak / 1024),
        }
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
