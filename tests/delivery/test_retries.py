"""Retries per SPEC §5: which failures are retried, when, and how each attempt is logged."""

import pytest
from django.test import override_settings
from django.utils import timezone

from postbacks.models import Delivery, PostbackLog
from postbacks.retry import SCHEDULE_SECONDS, is_retryable, retry_delay
from tests.conftest import convert
from tests.delivery.conftest import fire_due_now
from tests.delivery.receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)


def attempts_logged():
    return list(
        PostbackLog.objects.order_by("id").values_list("attempt", "trigger", "response_code")
    )


def waited_after_the_attempt() -> float:
    """Seconds from the logged attempt to the delivery's next attempt time."""
    delivery = Delivery.objects.get()
    return (delivery.next_attempt_at - delivery.logs.get().created).total_seconds()


def test_500_500_200_is_three_attempts(client, click, advertiser_key, make_config, receiver):
    make_config(receiver.url("/pb?tid={transaction_id}"))
    receiver.answer(Answer(500, "down"), Answer(500, "still down"))

    assert convert(client, advertiser_key, transaction_id=click.transaction_id).status_code == 200
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at > timezone.now()  # shown as its next attempt time

    fire_due_now()
    fire_due_now()

    assert attempts_logged() == [(1, "automatic", 500), (2, "retry", 500), (3, "retry", 200)]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("succeeded", 3)
    webhook_ids = {request.header("webhook-id") for request in receiver.requests}
    assert len(receiver.requests) == 3 and webhook_ids == {delivery.webhook_id}
    assert set(PostbackLog.objects.values_list("webhook_id", flat=True)) == {delivery.webhook_id}


def test_first_retry_waits_about_five_seconds(client, click, advertiser_key, make_config, receiver):
    make_config(receiver.url("/pb"))
    receiver.answer(Answer(503))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    wait = waited_after_the_attempt()
    assert SCHEDULE_SECONDS[0] * 0.8 - 0.5 <= wait <= SCHEDULE_SECONDS[0] * 1.2 + 0.5


def test_400_is_not_retried(client, click, advertiser_key, make_config, receiver):
    make_config(receiver.url("/pb"))
    receiver.answer(Answer(400, "bad tid"))

    convert(client, advertiser_key, transaction_id=click.transaction_id)
    fire_due_now()

    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("failed", 1, "HTTP 400")
    assert attempts_logged() == [(1, "automatic", 400)]
    assert len(receiver.requests) == 1


def test_max_attempts_is_the_last_attempt(client, click, advertiser_key, make_config, receiver):
    make_config(receiver.url("/pb"), max_attempts=2)
    receiver.default = Answer(502)

    convert(client, advertiser_key, transaction_id=click.transaction_id)
    fire_due_now()
    fire_due_now()

    assert attempts_logged() == [(1, "automatic", 502), (2, "retry", 502)]
    assert Delivery.objects.get().state == "failed"


def test_retry_after_is_honoured(client, click, advertiser_key, make_config, receiver):
    make_config(receiver.url("/pb"))
    receiver.answer(Answer(429, "slow down", {"Retry-After": "120"}))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert 119.5 <= waited_after_the_attempt() <= 120.5


@override_settings(POSTBACK_RETRY_AFTER_CAP=600)
def test_retry_after_is_capped(client, click, advertiser_key, make_config, receiver):
    make_config(receiver.url("/pb"))
    receiver.answer(Answer(503, "maintenance", {"Retry-After": "86400"}))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert 599.5 <= waited_after_the_attempt() <= 600.5


@pytest.mark.parametrize(
    ("code", "permanent", "retried"),
    [
        (0, False, True),
        (408, False, True),
        (429, False, True),
        (500, False, True),
        (503, False, True),
        (400, False, False),
        (404, False, False),
        (410, False, False),
        (0, True, False),  # blocked address, bad URL
    ],
)
def test_which_failures_are_retried(code, permanent, retried):
    assert is_retryable(code, permanent) is retried


def test_schedule_grows_with_twenty_percent_jitter():
    for attempt, base in enumerate(SCHEDULE_SECONDS, start=1):
        delays = [retry_delay(attempt) for _ in range(50)]
        assert all(base * 0.8 <= delay <= base * 1.2 for delay in delays)
    assert retry_delay(99) <= SCHEDULE_SECONDS[-1] * 1.2
