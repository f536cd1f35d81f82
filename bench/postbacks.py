"""Conversions → postbacks received per second, next to a plain requests.Session loop.

    .venv/bin/python bench/postbacks.py [--conversions 3000] [--publishers 20]
    .venv/bin/python bench/postbacks.py --latency-ms 100 [--clusters 1,2,4]  (bench/latency.py)

Creates the conversions with offers.services.record_conversion (their deliveries are
stored in the same transaction), starts a real `manage.py qcluster` worker, and measures
how fast a local receiver (a threaded HTTP server on loopback, in its own process) gets
the postbacks, from its first request to its last. The baseline in the same run is a
plain requests.Session loop to the same receiver. Then a second run where 10 % of the
publishers' endpoints hang (never answer; the config times out) reports the throughput
of the healthy ones.

SQLite in a fresh temporary file by default; DATABASE_URL=postgres://… to use PostgreSQL
(the database is used as given: point it at a scratch database), REDIS_URL for the Redis
broker. Target (SPEC §9): postbacks ≥ 0.5× the requests.Session loop's requests/s.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import Process, Queue
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HANG_SECONDS = 30
HANG_TIMEOUT = 3  # the hanging publishers' config timeout


# --- the receiver, in its own process so that it does not share a GIL with a sender ---


def serve_receiver(port_queue: Queue) -> None:
    lock = threading.Lock()
    stats = {"count": 0, "first": None, "last": None, "hung": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else headers and body wait for a delayed ACK

        def log_message(self, *args):
            pass

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/_stats":
                with lock:
                    return self._answer(json.dumps(stats).encode())
            if self.path == "/_reset":
                with lock:
                    stats.update(count=0, first=None, last=None, hung=0)
                return self._answer(b"reset")
            if self.path.startswith("/hang"):
                with lock:
                    stats["hung"] += 1
                time.sleep(HANG_SECONDS)
                return None
            now = time.time()
            with lock:
                stats["count"] += 1
                stats["first"] = stats["first"] or now
                stats["last"] = now
            return self._answer(b"OK")

        do_POST = do_GET

    # A web server's listen backlog (nginx: 511), not socketserver's 5: a client that opens
    # its connections at once (the asyncio sender) would otherwise wait out SYN retries.
    ThreadingHTTPServer.request_queue_size = 1024
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # resets from timed-out senders
    port_queue.put(server.server_address[1])
    server.serve_forever()


class ReceiverClient:
    def __init__(self, port: int):
        import requests

        self.base = f"http://127.0.0.1:{port}"
        self.session = requests.Session()

    def reset(self) -> None:
        self.session.get(self.base + "/_reset", timeout=5)

    def stats(self) -> dict:
        return self.session.get(self.base + "/_stats", timeout=5).json()


def rate(stats: dict) -> float:
    span = (stats["last"] or 0) - (stats["first"] or 0)
    return (stats["count"] - 1) / span if span > 0 else 0.0


# --- set-up ---


def django_setup(workdir: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integr8.settings")
    if not os.environ.get("DATABASE_URL"):
        os.environ["SQLITE_PATH"] = os.path.join(workdir, "bench.sqlite3")
    os.environ["POSTBACK_ALLOW_NETWORKS"] = "127.0.0.0/8"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(port: int, publishers: int, hanging: int) -> tuple:
    from offers.models import Advertiser, Offer, Publisher
    from postbacks.models import PostbackConfig

    advertiser = Advertiser.objects.create(name="Bench advertiser")
    offer = Offer.objects.create(
        advertiser=advertiser, name="Bench offer", destination_url="https://store.example/"
    )
    chosen = []
    for index in range(publishers):
        publisher = Publisher.objects.create(name=f"Bench publisher {index}")
        hangs = index < hanging
        path = "/hang" if hangs else "/pb"
        PostbackConfig.objects.create(
            name=f"Bench {index}",
            publisher=publisher,
            url=f"http://127.0.0.1:{port}{path}?tid={{transaction_id}}&p={{payout}}&s1={{sub1}}",
            timeout_seconds=HANG_TIMEOUT if hangs else 10,
            max_attempts=1 if hangs else 5,
            disable_after_failures=0,
        )
        chosen.append(publisher)
    return offer, chosen


def create_conversions(offer, publishers, count: int) -> None:
    """Through the service the /conversion/ endpoint uses, while the doorbell is quiet."""
    from django.utils import timezone

    from offers.models import Click
    from offers.services import record_conversion
    from postbacks.models import Dispatcher

    # A dispatcher that looks alive keeps the doorbell quiet while we fill the table.
    quiet = Dispatcher.objects.create(heartbeat=timezone.now() + timezone.timedelta(hours=1))
    clicks = Click.objects.bulk_create(
        Click(offer=offer, publisher=publishers[index % len(publishers)], sub1=f"s{index}")
        for index in range(count)
    )
    for click in Click.objects.filter(pk__in=[c.pk for c in clicks]).select_related("offer"):
        record_conversion(click, None, None, None, order_id="")
    quiet.delete()


def start_worker() -> subprocess.Popen:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="integr8.settings",
        Q_WORKERS=os.environ.get("Q_WORKERS", "2"),
        POSTBACK_IDLE_WAIT_SECONDS="5",
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_worker(worker: subprocess.Popen) -> None:
    try:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(5)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    except ProcessLookupError:
        pass


# --- the runs ---


def baseline(receiver: ReceiverClient, port: int, count: int) -> float:
    import requests

    receiver.reset()
    with requests.Session() as session:
        for index in range(count):
            session.get(
                f"http://127.0.0.1:{port}/pb?tid=T{index:022d}&p=1.75&s1=s{index}", timeout=10
            ).raise_for_status()
    return rate(receiver.stats())


def dispatch_run(receiver: ReceiverClient, healthy_expected: int, limit: float) -> dict:
    receiver.reset()
    worker = start_worker()
    started = time.monotonic()
    try:
        while time.monotonic() - started < limit:
            stats = receiver.stats()
            if stats["count"] >= healthy_expected:
                break
            time.sleep(0.2)
    finally:
        stop_worker(worker)
    stats = receiver.stats()
    stats["wall"] = time.monotonic() - started
    stats["rate"] = rate(stats)
    return stats


def clear_tables() -> None:
    from offers.models import Advertiser, Click, Conversion, Offer, Publisher
    from postbacks.models import Delivery, Dispatcher, PostbackConfig, PostbackLog

    models = (PostbackLog, Delivery, Conversion, Click, PostbackConfig, Publisher, Offer)
    for model in (*models, Advertiser, Dispatcher):
        model.objects.all().delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversions", type=int, default=3000)
    parser.add_argument("--publishers", type=int, default=20)
    parser.add_argument("--baseline-requests", type=int, default=3000)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON here")
    realistic = parser.add_argument_group(
        "real latency (bench/latency.py): receivers that answer after a delay, an aiohttp "
        "baseline, and 1, 2, 4 qcluster processes"
    )
    realistic.add_argument("--latency-ms", type=int, help="run the real-latency case")
    realistic.add_argument("--postbacks", type=int, default=20000, help="per qcluster count")
    realistic.add_argument(
        "--clusters",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 2, 4],
        help="qcluster process counts to try, e.g. 1,2,4",
    )
    realistic.add_argument("--limit", type=float, default=300, help="seconds per run at most")
    args = parser.parse_args()
    if args.latency_ms is not None:
        if "--publishers" not in sys.argv:
            args.publishers = 50
        with tempfile.TemporaryDirectory() as workdir:
            django_setup(workdir)
            from bench import latency

            latency.main(args)
        return

    port_queue = Queue()
    server = Process(target=serve_receiver, args=(port_queue,), daemon=True)
    server.start()
    port = port_queue.get(timeout=10)
    receiver = ReceiverClient(port)

    with tempfile.TemporaryDirectory() as workdir:
        django_setup(workdir)
        from django.conf import settings

        database = "PostgreSQL" if settings.IS_POSTGRES else "SQLite"
        broker = "Redis" if settings.REDIS_URL else "ORM"
        print(f"database: {database}, broker: {broker}, conversions: {args.conversions}")

        clear_tables()  # a reused database starts empty
        base = baseline(receiver, port, args.baseline_requests)
        print(f"baseline requests.Session loop: {base:8.0f} requests/s")

        offer, publishers = seed(port, args.publishers, hanging=0)
        create_conversions(offer, publishers, args.conversions)
        result = dispatch_run(receiver, args.conversions, limit=300)
        print(
            f"dispatcher (real qcluster):     {result['rate']:8.0f} postbacks/s "
            f"= {result['rate'] / base:.2f}× baseline "
            f"({result['count']} received, {result['wall']:.1f} s incl. worker start)"
        )

        clear_tables()
        hanging = max(1, args.publishers // 10)
        offer, publishers = seed(port, args.publishers, hanging=hanging)
        create_conversions(offer, publishers, args.conversions)
        healthy = args.conversions - sum(
            1 for index in range(args.conversions) if index % args.publishers < hanging
        )
        hung = dispatch_run(receiver, healthy, limit=300)
        print(
            f"with {hanging} of {args.publishers} publishers hanging "
            f"({HANG_TIMEOUT} s timeout): healthy {hung['rate']:8.0f} postbacks/s "
            f"= {hung['rate'] / base:.2f}× baseline, {hung['rate'] / result['rate']:.2f}× the "
            f"run without hangs ({hung['count']} of {healthy} healthy received, "
            f"{hung['hung']} hanging requests started)"
        )
        figures = {
            "database": database,
            "broker": broker,
            "conversions": args.conversions,
            "publishers": args.publishers,
            "baseline_requests_per_second": round(base, 1),
            "postbacks_per_second": round(result["rate"], 1),
            "ratio": round(result["rate"] / base, 3),
            "healthy_postbacks_per_second_with_hanging": round(hung["rate"], 1),
            "hanging_vs_no_hangs": round(hung["rate"] / result["rate"], 3),
        }
    server.terminate()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
