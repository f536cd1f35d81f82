"""The PostgreSQL benchmarks' own database: created beside the server's, filled once, reused."""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def server_and_database(url: str, database: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL (postgres://…).")
    admin = urlunsplit(parts._replace(path="/postgres"))
    bench = urlunsplit(parts._replace(path="/" + database))
    return admin, bench


def ensure_database(admin_url: str, database: str, refill: bool) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database]
        ).fetchone()
        if exists and refill:
            connection.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
            exists = None
        if not exists:
            connection.execute(f'CREATE DATABASE "{database}"')


def own_database(database: str, refill: bool) -> str:
    """The URL of the bench's own database beside DATABASE_URL's server, made if missing
    (afresh with `refill`); exits with a word when DATABASE_URL is not set."""
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL=postgres://… (the server; the bench creates its own database).")
    admin_url, bench_url = server_and_database(os.environ["DATABASE_URL"], database)
    ensure_database(admin_url, database, refill)
    return bench_url


def setup_django(bench_url: str) -> None:
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integr8.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
