"""Duplicates sent at the same time still store one install.

Each thread has its own database connection, so the test database must hold committed
data: transaction=True.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client

from offers.installs import parse_install, record_install
from offers.models import Conversion
from tests.installs.conftest import URL, minimal

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 30  # seconds; a safety net for a stuck thread, never a speed assertion


def call(key: str, **fields) -> tuple[int, dict]:
    try:
        response = Client().get(URL, minimal(**fields), HTTP_AUTHORIZATION=f"Bearer {key}")
        return response.status_code, response.json()
    finally:
        connection.close()  # this thread's own connection


def test_simultaneous_duplicates_store_one(advertiser_key, default_offer):
    count = 8
    start = threading.Barrier(count)

    def racer(_):
        start.wait(WAIT)
        return call(advertiser_key, id="same-install")

    with ThreadPoolExecutor(count) as pool:
        answers = list(pool.map(racer, range(count)))

    assert [status for status, _ in answers] == [200] * count
    bodies = [body for _, body in answers]
    assert Conversion.objects.count() == 1
    assert {body["conversion_id"] for body in bodies} == {Conversion.objects.get().pk}
    assert sorted(body["duplicate"] for body in bodies) == [False] + [True] * (count - 1)


@pytest.mark.skipif(
    not settings.IS_POSTGRES,
    reason="needs PostgreSQL: it watches pg_stat_activity for the second request waiting on "
    "the first one's uncommitted row; on SQLite the test above covers simultaneous duplicates",
)
def test_duplicate_blocked_by_an_uncommitted_install_answers_duplicate(
    advertiser, advertiser_key, default_offer
):
    """The second call finds nothing, then its insert waits on the first's unique key."""
    install = parse_install(minimal(id="racing"), advertiser)
    stored = threading.Event()
    release = threading.Event()

    def first():
        try:
            with transaction.atomic():
                result = record_install(advertiser, install)
                stored.set()
                release.wait(WAIT)
            return result
        finally:
            connection.close()

    def second():
        stored.wait(WAIT)
        return call(advertiser_key, id="racing")

    with ThreadPoolExecutor(2) as pool:
        held, racing = pool.submit(first), pool.submit(second)
        try:
            wait_for_a_lock_wait()
        finally:
            release.set()
        result = held.result(WAIT)
        status, body = racing.result(WAIT)

    assert result.duplicate is False
    assert status == 200
    assert body["duplicate"] is True
    assert body["conversion_id"] == result.conversion.pk
    assert body["transaction_id"] == result.conversion.transaction_id
    assert Conversion.objects.count() == 1


def wait_for_a_lock_wait() -> None:
    deadline = time.monotonic() + WAIT
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("The second request never waited on the first one's row.")
