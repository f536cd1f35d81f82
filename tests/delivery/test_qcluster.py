"""No loss, with a real qcluster worker process (not sync mode).

The worker is SIGKILLed (whole process group) while a receiver holds a postback open;
after a restart the postback arrives exactly once more with the same webhook-id, and
nothing else is lost. Runs on SQLite with the ORM broker and on PostgreSQL with Redis.
"""

import time
from collections import Counter

import pytest

from offers.models import Click
from postbacks.models import Delivery, PostbackLog, new_secret
from tests.conftest import convert
from tests.delivery.receiver import Answer

pytestmark = [pytest.mark.qcluster, pytest.mark.django_db(transaction=True)]


def new_conversions(client, key, offer, publisher, count) -> None:
    for _ in range(count):
        click = Click.objects.create(offer=offer, publisher=publisher)
        assert convert(client, key, transaction_id=click.transaction_id).status_code == 200


def wait_until(condition, timeout: float = 45, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def webhook_ids(receiver) -> Counter:
    return Counter(request.header("webhook-id") for request in receiver.requests)


def test_a_real_worker_delivers_a_conversion_postback(
    client, click, advertiser_key, make_config, receiver, qcluster
):
    make_config(receiver.url("/pb?tid={transaction_id}"), secret=new_secret())
    qcluster.start()

    response = convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert response.status_code == 200 and response.json()["postbacks_queued"] == 1
    request = receiver.wait_for(1, timeout=45)[0]
    assert request.path == f"/pb?tid={click.transaction_id}"
    wait_until(lambda: PostbackLog.objects.exists(), what="the log row")
    log = PostbackLog.objects.get()
    assert (log.status, log.response_code, log.trigger) == ("success", 200, "automatic")
    assert log.webhook_id == request.header("webhook-id") == Delivery.objects.get().webhook_id


def test_sigkill_mid_request_loses_nothing(
    client, offer, publisher, advertiser_key, make_config, receiver, qcluster
):
    make_config(receiver.url("/pb?tid={transaction_id}"), timeout_seconds=4)
    receiver.answer(Answer(hold=True))  # the first request is never answered
    qcluster.start()

    new_conversions(client, advertiser_key, offer, publisher, 1)
    held = receiver.wait_for(1, timeout=45)[0]
    qcluster.kill()

    # While the worker is down, the advertiser keeps reporting conversions.
    new_conversions(client, advertiser_key, offer, publisher, 20)
    qcluster.start()

    wait_until(
        lambda: Delivery.objects.filter(state="succeeded").count() == 21,
        timeout=50,
        what="21 delivered postbacks",
    )
    time.sleep(2)  # anything duplicated would arrive now
    seen = webhook_ids(receiver)
    assert seen[held.header("webhook-id")] == 2  # the interrupted one: exactly once more
    assert len(seen) == 21 and sum(seen.values()) == 22
    interrupted = PostbackLog.objects.get(webhook_id=held.header("webhook-id"), status="failed")
    assert (interrupted.attempt, interrupted.response_code) == (1, 0)
    assert interrupted.error.startswith("Interrupted")
    assert PostbackLog.objects.filter(status="success").count() == 21


def test_sigkill_with_a_batch_in_flight(
    client, offer, publisher, advertiser_key, make_config, receiver, qcluster
):
    make_config(receiver.url("/pb?tid={transaction_id}"), timeout_seconds=4)
    receiver.answer(*[Answer(hold=True) for _ in range(20)])
    qcluster.start()

    new_conversions(client, advertiser_key, offer, publisher, 20)
    receiver.wait_for(8, timeout=45)  # a full per-config share is in flight
    qcluster.kill()
    time.sleep(0.5)  # requests already on the wire still get the held answer
    held = {request.header("webhook-id") for request in receiver.requests}
    receiver.script.clear()  # from now on every request is answered
    qcluster.start()

    wait_until(
        lambda: Delivery.objects.filter(state="succeeded").count() == 20,
        timeout=50,
        what="20 delivered postbacks",
    )
    time.sleep(2)
    seen = webhook_ids(receiver)
    assert len(seen) == 20
    assert all(seen[webhook_id] == 2 for webhook_id in held)
    assert all(count == 1 for webhook_id, count in seen.items() if webhook_id not in held)
