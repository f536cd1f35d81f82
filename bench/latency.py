"""Delivery at real latency, with 1, 2 and 4 qcluster processes (issue 13, SPEC §9).

    DATABASE_URL=postgres://… REDIS_URL=redis://… \\
      .venv/bin/python bench/postbacks.py --latency-ms 100 [--publishers 50] \\
      [--postbacks 20000] [--clusters 1,2,4] [--json FILE]

The publishers' receivers are one aiohttp server in its own process that answers every
postback after `--latency-ms`, one path per publisher. The baseline in the same run is an
aiohttp client with 256 connections sending as fast as it can to the same receivers.
Then, for each count of qcluster processes, `--postbacks` click postbacks are stored
(bulk: the clicks and their deliveries) and the clusters deliver them: real
`manage.py qcluster` processes, every postback SSRF-checked on the address connected to,
signed, logged and rolled up. Reported per count: postbacks/s from the receiver's first
request to its last, the ratio to the baseline, and duplicate `webhook-id`s (0 without
kills: the database hands each delivery to one dispatcher).
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from multiprocessing import Process, Queue
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE_CONNECTIONS = 256


# --- the receivers: one asyncio server, its own process ---


def serve_receivers(port_queue: Queue, latency: float) -> None:
    from aiohttp import web

    stats: dict = {"count": 0, "first": None, "last": None, "duplicates": 0}
    seen: set[str] = set()

    async def postback(request: web.Request) -> web.Response:
        await asyncio.sleep(latency)
        now = time.time()
        webhook_id = request.headers.get("webhook-id", "")
        if webhook_id:
            if webhook_id in seen:
                stats["duplicates"] += 1
            seen.add(webhook_id)
        stats["count"] += 1
        stats["first"] = stats["first"] or now
        stats["last"] = now
        return web.Response(text="OK")

    async def read_stats(request: web.Request) -> web.Response:
        return web.json_response(stats)

    async def reset(request: web.Request) -> web.Response:
        stats.update(count=0, first=None, last=None, duplicates=0)
        seen.clear()
        return web.Response(text="reset")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/_stats", read_stats)
        app.router.add_get("/_reset", reset)
        app.router.add_route("*", "/pb/{publisher}", postback)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        port_queue.put(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


def receiver_stats(port: int, reset: bool = False) -> dict:
    import requests

    path = "/_reset" if reset else "/_stats"
    answer = requests.get(f"http://127.0.0.1:{port}{path}", timeout=10)
    return {} if reset else answer.json()


def rate(stats: dict) -> float:
    span = (stats["last"] or 0) - (stats["first"] or 0)
    return (stats["count"] - 1) / span if span > 0 else 0.0


def baseline(port: int, publishers: int, count: int) -> float:
    """An aiohttp client with 256 connections, as fast as it goes."""
    import aiohttp

    async def run() -> None:
        connector = aiohttp.TCPConnector(limit=BASELINE_CONNECTIONS)
        async with aiohttp.ClientSession(connector=connector) as session:
            pending = iter(range(count))

            async def sender() -> None:
                for index in pending:
                    url = f"http://127.0.0.1:{port}/pb/{index % publishers}?tid=T{index:022d}"
                    async with session.get(url) as answer:
                        await answer.read()

            await asyncio.gather(*(sender() for _ in range(BASELINE_CONNECTIONS)))

    receiver_stats(port, reset=True)
    asyncio.run(run())
    return rate(receiver_stats(port))


# --- the platform side ---


def seed(port: int, publishers: int):
    from offers.models import Advertiser, Offer, Publisher
    from postbacks.models import PostbackConfig, new_secret

    advertiser = Advertiser.objects.create(name="Latency bench advertiser")
    offer = Offer.objects.create(
        advertiser=advertiser, name="Latency bench offer", destination_url="https://store.example/"
    )
    chosen = []
    for index in range(publishers):
        publisher = Publisher.objects.create(name=f"Latency publisher {index}")
        PostbackConfig.objects.create(
            name=f"Latency {index}",
            publisher=publisher,
            postback_type="click",
            url=f"http://127.0.0.1:{port}/pb/{index}?tid={{transaction_id}}&s1={{sub1}}",
            secret=new_secret(),
            timeout_seconds=10,
            max_attempts=5,
            disable_after_failures=0,
        )
        chosen.append(publisher)
    return offer, chosen


def store_postbacks(offer, publishers, count: int) -> None:
    """Clicks and their Click-postback deliveries in bulk (the doorbell does not ring)."""
    from offers.models import Click
    from postbacks.models import Delivery, PostbackConfig

    configs = {config.publisher_id: config for config in PostbackConfig.objects.all()}
    for start in range(0, count, 5000):
        clicks = Click.objects.bulk_create(
            Click(offer=offer, publisher=publishers[index % len(publishers)], sub1=f"s{index}")
            for index in range(start, min(count, start + 5000))
        )
        Delivery.objects.bulk_create(
            Delivery(
                config=configs[click.publisher_id],
                postback_type="click",
                click=click,
                max_attempts=5,
            )
            for click in clicks
        )


def clear_tables() -> None:
    """Every run starts from empty tables. On PostgreSQL by TRUNCATE: a DELETE leaves its
    dead rows and index entries to autovacuum, and where autovacuum is off (as on some
    test machines) each run would be slower than the one before it."""
    from django.db import connection

    from offers.models import Advertiser, Click, Conversion, Offer, Publisher
    from postbacks.models import (
        AttemptRollup,
        CoarseAttemptRollup,
        Delivery,
        Dispatcher,
        PostbackConfig,
        PostbackLog,
        SeriesRollup,
    )

    written = (PostbackLog, Delivery, Conversion, Click, PostbackConfig, Publisher, Offer)
    if connection.vendor == "postgresql":
        rollups = (AttemptRollup, CoarseAttemptRollup, SeriesRollup)
        tables = ", ".join(m._meta.db_table for m in (*written, Advertiser, Dispatcher, *rollups))
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} CASCADE")  # noqa: S608 (the models' names)
        return
    for model in written:
        model.objects.all().delete()
    Advertiser.objects.all().delete()
    Dispatcher.objects.all().delete()


def analyze() -> None:
    """Fresh statistics for the stored postbacks, as autovacuum would gather them."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def start_clusters(count: int) -> list[subprocess.Popen]:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="integr8.settings",
        Q_WORKERS=os.environ.get("Q_WORKERS", "3"),
        POSTBACK_IDLE_WAIT_SECONDS="5",
    )
    return [
        subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(count)
    ]


def stop_clusters(clusters: list[subprocess.Popen]) -> None:
    for cluster in clusters:
        try:
            os.killpg(cluster.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for cluster in clusters:
        try:
            cluster.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait()


def deliver(port: int, clusters: int, expected: int, limit: float) -> dict:
    from django.utils import timezone

    from postbacks.dispatch import alive_dispatchers, wake_dispatcher

    receiver_stats(port, reset=True)
    started = time.monotonic()
    processes = start_clusters(clusters)
    wake_dispatcher(force=True)
    most_dispatchers, most_clusters = 0, 0
    try:
        while time.monotonic() - started < limit:
            if receiver_stats(port)["count"] >= expected:
                break
            # Older than a second: a task that joins and finds its cluster full leaves
            # its row for a moment.
            settled = alive_dispatchers().filter(started__lt=timezone.now() - timedelta(seconds=1))
            alive = list(settled.values_list("cluster", flat=True))
            most_dispatchers = max(most_dispatchers, len(alive))
            most_clusters = max(most_clusters, len(set(alive)))
            time.sleep(0.5)
    finally:
        stop_clusters(processes)
    stats = receiver_stats(port)
    stats["dispatchers"], stats["clusters_sending"] = most_dispatchers, most_clusters
    stats["wall"] = time.monotonic() - started
    stats["rate"] = rate(stats)
    return stats


def main(args) -> None:
    port_queue: Queue = Queue()
    server = Process(target=serve_receivers, args=(port_queue, args.latency_ms / 1000), daemon=True)
    server.start()
    port = port_queue.get(timeout=10)
    from django.conf import settings

    database = "PostgreSQL" if settings.IS_POSTGRES else "SQLite"
    broker = "Redis" if settings.REDIS_URL else "ORM"
    print(
        f"database: {database}, broker: {broker}, receivers answer after "
        f"{args.latency_ms} ms, {args.publishers} publishers, {args.postbacks} postbacks a run"
    )
    clear_tables()
    base = baseline(port, args.publishers, args.baseline_requests)
    print(f"baseline aiohttp client ({BASELINE_CONNECTIONS} connections): {base:8.0f} requests/s")
    figures: dict = {
        "database": database,
        "broker": broker,
        "latency_ms": args.latency_ms,
        "publishers": args.publishers,
        "postbacks": args.postbacks,
        "baseline_requests_per_second": round(base, 1),
        "runs": [],
    }
    for clusters in args.clusters:
        clear_tables()
        offer, publishers = seed(port, args.publishers)
        store_postbacks(offer, publishers, args.postbacks)
        analyze()
        result = deliver(port, clusters, args.postbacks, limit=args.limit)
        print(
            f"{clusters} qcluster process(es): {result['rate']:8.0f} postbacks/s "
            f"= {result['rate'] / base:.2f}× baseline ({result['count']} received, "
            f"{result['duplicates']} duplicate webhook-ids, {result['wall']:.1f} s incl. start; "
            f"at most {result['dispatchers']} dispatchers in {result['clusters_sending']} "
            "clusters at once)"
        )
        figures["runs"].append(
            {
                "clusters": clusters,
                "postbacks_per_second": round(result["rate"], 1),
                "ratio": round(result["rate"] / base, 3),
                "received": result["count"],
                "duplicate_webhook_ids": result["duplicates"],
                "most_dispatchers_at_once": result["dispatchers"],
                "clusters_sending": result["clusters_sending"],
            }
        )
    clear_tables()
    server.terminate()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
