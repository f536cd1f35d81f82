"""The dispatcher's own guarantees: leases, dead workers, and slow publishers."""

import socket
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from offers.models import Click
from postbacks.dispatch import claim, run_dispatcher
from postbacks.models import Delivery, Dispatcher, PostbackLog
from postbacks.services import queue_click_postbacks
from tests.delivery.conftest import fire_due_now
from tests.delivery.receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)


def quiet_doorbell():
    """A dispatcher that looks alive: deliveries are stored without being fired."""
    return Dispatcher.objects.create(heartbeat=timezone.now() + timedelta(hours=1))


def click_deliveries(offer, publisher, count):
    for _ in range(count):
        queue_click_postbacks(Click.objects.create(offer=offer, publisher=publisher))


def test_an_expired_lease_is_logged_as_interrupted_and_retried(
    offer, publisher, make_config, receiver
):
    make_config(receiver.url("/pb?tid={transaction_id}"), postback_type="click")
    quiet = quiet_doorbell()
    click_deliveries(offer, publisher, 1)
    quiet.delete()
    assert len(claim(10).deliveries) == 1  # a worker claims it, then dies before recording
    Delivery.objects.update(locked_until=timezone.now() - timedelta(seconds=1))

    run_dispatcher()

    log = PostbackLog.objects.get()
    assert (log.status, log.attempt, log.response_code, log.trigger) == (
        "failed",
        1,
        0,
        "automatic",
    )
    assert log.error == "Interrupted: the worker stopped during this attempt"
    assert log.url == receiver.url(f"/pb?tid={Click.objects.get().transaction_id}")
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.in_flight) == ("pending", 1, False)
    assert receiver.requests == []

    fire_due_now()

    assert [
        (log.attempt, log.trigger, log.status) for log in PostbackLog.objects.order_by("id")
    ] == [
        (1, "automatic", "failed"),
        (2, "retry", "success"),
    ]
    assert len(receiver.requests) == 1


def test_a_leased_delivery_is_not_claimed_twice(offer, publisher, make_config, receiver):
    make_config(receiver.url("/pb"), postback_type="click")
    quiet = quiet_doorbell()
    click_deliveries(offer, publisher, 3)
    quiet.delete()

    assert len(claim(2).deliveries) == 2
    assert len(claim(10).deliveries) == 1
    assert claim(10).deliveries == []


def test_rows_of_dead_dispatchers_on_this_host_are_forgotten(
    offer, publisher, make_config, receiver
):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)
    for _ in range(2):  # as many as POSTBACK_DISPATCHERS, heartbeats still fresh
        Dispatcher.objects.create(host=socket.gethostname(), pid=pid)
    make_config(receiver.url("/pb"), postback_type="click")

    click_deliveries(offer, publisher, 1)
    run_dispatcher()

    assert len(receiver.wait_for(1)) == 1
    assert not Dispatcher.objects.filter(pid=pid).exists()


@pytest.mark.parametrize("sender", ["asyncio", "threads"])
def test_a_hanging_publisher_does_not_hold_up_the_others(
    offer, publisher, make_config, receiver, make_receiver, settings, sender
):
    # All through the settings fixture: one set inside an override_settings decorator
    # would outlive the test.
    settings.POSTBACK_SENDER = sender
    settings.POSTBACK_CONCURRENCY, settings.POSTBACK_PER_CONFIG_CONCURRENCY = 8, 4
    hanging = make_receiver()
    hanging.default = Answer(hold=True)
    make_config(hanging.url("/hang"), postback_type="click", name="Hangs", timeout_seconds=20)
    make_config(receiver.url("/pb"), postback_type="click", name="Healthy")
    quiet = quiet_doorbell()
    click_deliveries(offer, publisher, 20)  # 20 deliveries for each config
    quiet.delete()

    def dispatch_in_a_thread():
        try:
            run_dispatcher()
        finally:
            connection.close()  # the thread's own connection, or the test database stays busy

    dispatcher = threading.Thread(target=dispatch_in_a_thread)
    dispatcher.start()
    try:
        # Every healthy postback arrives while the hanging publisher holds its requests.
        assert len(receiver.wait_for(20, timeout=60)) == 20
        assert len(hanging.requests) <= 4
    finally:
        hanging.release.set()
        dispatcher.join(60)
    assert Delivery.objects.filter(config__name="Healthy", state="succeeded").count() == 20


def test_deliveries_show_their_next_attempt(client, click, advertiser_key, make_config, receiver):
    from tests.conftest import convert

    make_config(receiver.url("/pb"))
    receiver.answer(Answer(503))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.next_attempt_at > timezone.now()
    assert (delivery.last_response_code, delivery.last_error) == (503, "HTTP 503")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ends PostgreSQL sessions")
def test_a_database_blip_loses_and_duplicates_nothing(
    offer, publisher, make_config, receiver, caplog
):
    make_config(receiver.url("/pb"), postback_type="click")
    receiver.default = Answer(200, "OK", answer_after_release=True)
    quiet = quiet_doorbell()
    click_deliveries(offer, publisher, 5)
    quiet.delete()

    def dispatch_in_a_thread():
        try:
            run_dispatcher()
        finally:
            connection.close()

    dispatcher = threading.Thread(target=dispatch_in_a_thread)
    dispatcher.start()
    try:
        receiver.wait_for(5)  # all in flight
        with connection.cursor() as cursor:  # the blip: every other session is cut off
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    finally:
        receiver.release.set()
        dispatcher.join(60)

    assert Delivery.objects.filter(state="succeeded").count() == 5
    assert PostbackLog.objects.filter(status="success").count() == 5
    assert len(receiver.requests) == 5
    assert "database unavailable" in caplog.text  # the dispatcher did see the blip
