"""Clicks per second through gunicorn, next to a bare Django redirect view in the same run.

    .venv/bin/python bench/clicks.py [--seconds 10] [--connections 16] [--workers 2]

SQLite in a fresh temporary file by default; DATABASE_URL=postgres://… to use that
PostgreSQL server, where the bench makes its own database afresh each run
(integr8_bench_clicks), so every run starts from an empty click table. Uses `wrk` when it is
installed (apt-get install wrk), else a threaded Python client. Target (SPEC §9): clicks
≥ 0.5× the bare redirect's requests/s.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pgbench_database import own_database  # noqa: E402

PORT = 8765


def prepare_environment(workdir: str) -> dict:
    # One client address sends everything here: the per-IP limit would measure itself.
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DB_CONN_MAX_AGE="600",
        CLICK_RATE_PER_IP="",
    )
    if env.get("DATABASE_URL"):
        env["DATABASE_URL"] = own_database("integr8_bench_clicks", refill=True)
    else:
        env["SQLITE_PATH"] = os.path.join(workdir, "bench.sqlite3")
    return env


def seed(env: dict) -> tuple[int, int]:
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from offers.models import Advertiser, Offer, Publisher

    call_command("migrate", verbosity=0)
    advertiser = Advertiser.objects.create(name="Bench advertiser")
    offer = Offer.objects.create(
        advertiser=advertiser,
        name="Bench offer",
        destination_url="https://store.example/app?cid={click_id}&s1={sub1}",
    )
    publisher = Publisher.objects.create(name="Bench publisher")
    return offer.pk, publisher.pk


def start_gunicorn(env: dict, workers: int) -> subprocess.Popen:
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    command = [gunicorn, "integr8.wsgi", "-b", f"127.0.0.1:{PORT}", "-w", str(workers)]
    server = subprocess.Popen(
        [*command, "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
            connection.request("GET", "/bench/bare-redirect/")
            connection.getresponse().read()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start")


def measure_wrk(path: str, seconds: int, connections: int) -> float:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", f"http://127.0.0.1:{PORT}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non_redirect = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_redirect:
        raise SystemExit(f"{path}: {non_redirect.group(1)} error responses\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def measure_python(path: str, seconds: int, connections: int) -> float:
    deadline = time.monotonic() + seconds
    counts = [0] * connections

    def worker(slot: int) -> None:
        while time.monotonic() < deadline:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status != 302:
                raise SystemExit(f"{path} answered {response.status}")
            counts[slot] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn sync workers, for both (WEB_WORKERS)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON here")
    args = parser.parse_args()
    measure = measure_wrk if shutil.which("wrk") else measure_python
    with tempfile.TemporaryDirectory() as workdir:
        env = prepare_environment(workdir)
        offer_id, publisher_id = seed(env)
        server = start_gunicorn(env, args.workers)
        try:
            click_path = f"/click/{offer_id}/{publisher_id}/?sub1=bench&google_aid=g"
            measure("/bench/bare-redirect/", 2, args.connections)  # warm-up
            measure(click_path, 2, args.connections)
            baseline = measure("/bench/bare-redirect/", args.seconds, args.connections)
            clicks = measure(click_path, args.seconds, args.connections)
        finally:
            server.terminate()
            server.wait()
        from offers.models import Click

        recorded = Click.objects.count()
    database = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite"
    client = measure.__name__.removeprefix("measure_")
    print(f"database: {database}; client: {client}; gunicorn workers: {args.workers}")
    print(f"bare Django redirect (baseline): {baseline:8.0f} requests/s")
    print(f"GET /click/… (records a click):  {clicks:8.0f} requests/s")
    print(f"ratio: {clicks / baseline:.2f}x (target >= 0.5x); clicks recorded: {recorded}")
    if args.json:
        figures = {
            "database": database,
            "client": client,
            "gunicorn_workers": args.workers,
            "baseline_requests_per_second": round(baseline, 1),
            "clicks_per_second": round(clicks, 1),
            "ratio": round(clicks / baseline, 3),
            "clicks_recorded": recorded,
        }
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
