"""Fencing: only the dispatcher that still holds a delivery's claim writes its outcome.

A re-fire that lands while an attempt is in flight gets one more round after it; a writer
whose lease expired and was re-claimed, or whose claim a service revoked, only logs.
"""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from offers.models import Click
from postbacks import services
from postbacks.attempts import prepare, record
from postbacks.dispatch import claim, run_dispatcher
from postbacks.models import Delivery, Dispatcher, PostbackConfig, PostbackLog
from postbacks.transport import new_session, send
from tests.conftest import convert
from tests.delivery.conftest import fire_due_now
from tests.delivery.receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)


def quiet_doorbell():
    """A dispatcher that looks alive: deliveries are stored without being fired."""
    return Dispatcher.objects.create(heartbeat=timezone.now() + timedelta(hours=1))


def dispatcher_thread() -> threading.Thread:
    def run():
        try:
            run_dispatcher()
        finally:
            connection.close()  # the thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def api_post(client, path: str, key: str, data: dict | None = None):
    return client.post(
        f"/api/v1/{path}",
        json.dumps(data or {}),
        "application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def api_patch(client, path: str, key: str, data: dict):
    return client.patch(
        f"/api/v1/{path}", json.dumps(data), "application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )


def attempts_logged():
    return [(log.attempt, log.trigger, log.status) for log in PostbackLog.objects.order_by("id")]


def test_a_refire_during_an_attempt_in_flight_sends_once_more(
    client, click, advertiser_key, make_config, receiver
):
    make_config(receiver.url("/pb?tid={transaction_id}"))
    receiver.answer(Answer(200, "OK", answer_after_release=True))
    quiet = quiet_doorbell()
    conversion_id = convert(client, advertiser_key, transaction_id=click.transaction_id).json()[
        "conversion_id"
    ]
    quiet.delete()

    dispatcher = dispatcher_thread()
    try:
        receiver.wait_for(1)  # the first attempt is on the wire, its answer held
        response = api_post(client, f"conversions/{conversion_id}/refire/", advertiser_key)
        assert (response.status_code, response.json()) == (202, {"queued": 1})
        receiver.release.set()
        requests = receiver.wait_for(2)
    finally:
        receiver.release.set()
        dispatcher.join(60)

    assert len(requests) == 2
    assert requests[0].header("webhook-id") == requests[1].header("webhook-id")
    assert attempts_logged() == [(1, "automatic", "success"), (2, "refire", "success")]
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.refire_requested) == ("succeeded", 2, False)
    assert (delivery.in_flight, delivery.claim_token) == (False, "")


def test_a_refire_before_the_claim_is_served_by_that_claim(offer, publisher, make_config, receiver):
    make_config(receiver.url("/pb"), postback_type="click")
    quiet = quiet_doorbell()
    services.queue_click_postbacks(Click.objects.create(offer=offer, publisher=publisher))
    services.refire_delivery(Delivery.objects.get())
    quiet.delete()

    run_dispatcher()

    assert len(receiver.requests) == 1
    assert attempts_logged() == [(1, "refire", "success")]


def test_a_writer_whose_lease_expired_and_was_reclaimed_cannot_overwrite(
    offer, publisher, make_config, receiver
):
    make_config(receiver.url("/pb"), postback_type="click")
    quiet = quiet_doorbell()
    services.queue_click_postbacks(Click.objects.create(offer=offer, publisher=publisher))
    quiet.delete()
    stale = claim(10)
    stale_attempt = prepare(stale.deliveries[0], stale.token)
    # The stale dispatcher stalls past its lease; another one takes over and delivers.
    Delivery.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    run_dispatcher()  # logs the attempt it thinks was interrupted, schedules a retry
    fire_due_now()  # ... which succeeds
    assert Delivery.objects.get().state == "succeeded"
    receiver.answer(Answer(500, "late"))

    with new_session(1) as session:  # the stale dispatcher wakes up and sends after all
        outcome = send(stale_attempt.request, session)
    recorded = record([(stale_attempt, outcome)])

    assert recorded.lost == [stale_attempt] and recorded.ended == []
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_response_code) == ("succeeded", 2, 200)
    # The attempt still happened, so it is in the log.
    assert PostbackLog.objects.filter(response_code=500, attempt=1).count() == 1
    assert PostbackConfig.objects.get().consecutive_failures == 0


def test_a_rejection_fences_off_an_attempt_in_flight(
    client, click, advertiser_key, make_config, receiver
):
    make_config(receiver.url("/pb"))
    quiet = quiet_doorbell()
    conversion_id = convert(client, advertiser_key, transaction_id=click.transaction_id).json()[
        "conversion_id"
    ]
    quiet.delete()
    claimed = claim(10)
    attempt = prepare(claimed.deliveries[0], claimed.token)

    response = api_post(
        client, f"conversions/{conversion_id}/reject/", advertiser_key, {"reason": "fraud"}
    )
    assert response.status_code == 200
    with new_session(1) as session:
        recorded = record([(attempt, send(attempt.request, session))])

    assert recorded.lost == [attempt]
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("cancelled", 0)
    assert PostbackLog.objects.get().status == "success"  # it was sent; the log says so


def test_a_refire_of_a_failed_delivery_is_one_update_with_a_new_round(
    offer, publisher, make_config, receiver, django_assert_max_num_queries
):
    config = make_config(receiver.url("/pb"), postback_type="click", max_attempts=2)
    receiver.default = Answer(404)
    for _ in range(3):
        services.queue_click_postbacks(Click.objects.create(offer=offer, publisher=publisher))
    assert set(Delivery.objects.values_list("state", flat=True)) == {"failed"}
    receiver.default = Answer(200)
    quiet = quiet_doorbell()

    deliveries = Delivery.objects.filter(config=config)
    with django_assert_max_num_queries(1):  # one UPDATE, however many rows
        reopened = services._reopen(deliveries)

    assert reopened == 3
    assert set(deliveries.values_list("state", "max_attempts", "next_trigger")) == {
        ("pending", 3, "refire")
    }
    quiet.delete()
    run_dispatcher()
    assert set(Delivery.objects.values_list("state", flat=True)) == {"succeeded"}


def test_enabling_through_the_api_resets_the_failure_count(
    client, staff_key, make_config, receiver
):
    config = make_config(receiver.url("/pb"), disable_after_failures=10)
    PostbackConfig.objects.filter(pk=config.pk).update(
        enabled=False, consecutive_failures=10, disabled_reason="Disabled after 10 …"
    )

    response = api_patch(client, f"postback-configs/{config.pk}/", staff_key, {"enabled": True})

    assert response.status_code == 200 and response.json()["enabled"] is True
    config.refresh_from_db()
    assert (config.enabled, config.consecutive_failures, config.disabled_reason) == (True, 0, "")


def test_an_api_update_that_leaves_enabled_alone_keeps_the_count(client, staff_key, make_config):
    config = make_config("http://127.0.0.1:9/pb")
    PostbackConfig.objects.filter(pk=config.pk).update(consecutive_failures=3)

    response = api_patch(client, f"postback-configs/{config.pk}/", staff_key, {"name": "Renamed"})

    assert response.status_code == 200
    config.refresh_from_db()
    assert (config.name, config.consecutive_failures) == ("Renamed", 3)
