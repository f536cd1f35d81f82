"""Re-fire through a real receiver on loopback: single, bulk, only_failed, Idempotency-Key."""

import pytest
from werkzeug import Response

from api.models import IdempotencyRecord
from offers.models import Click, Conversion
from postbacks.models import Delivery, PostbackLog
from tests.api.conftest import errors
from tests.conftest import convert

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(httpserver):
    """A publisher endpoint whose answer per path can be changed: {"/good": 200, ...}."""
    answers = {"/good": 200, "/bad": 404}
    httpserver.expect_request("/good").respond_with_handler(
        lambda request: Response("ok", status=answers["/good"])
    )
    httpserver.expect_request("/bad").respond_with_handler(
        lambda request: Response("nope", status=answers["/bad"])
    )
    httpserver.answers = answers
    return httpserver


def hits(httpserver, path: str) -> int:
    return sum(1 for request, _ in httpserver.log if request.path == path)


@pytest.fixture
def fired(client, click, advertiser_key, make_config, receiver):
    """A conversion whose /good postback succeeded and whose /bad one failed for good."""
    make_config(receiver.url_for("/good") + "?t={transaction_id}", name="Good")
    make_config(receiver.url_for("/bad") + "?t={transaction_id}", name="Bad")
    response = convert(client, advertiser_key, transaction_id=click.transaction_id)
    assert response.status_code == 200, response.content
    conversion = Conversion.objects.get()
    states = {d.config.name: d.state for d in conversion.deliveries.all()}
    assert states == {"Good": "succeeded", "Bad": "failed"}
    return conversion


def test_refire_only_failed_resends_the_failed_one(api, advertiser_key, fired, receiver):
    receiver.answers["/bad"] = 200  # the publisher fixed its endpoint

    response = api.post(f"conversions/{fired.pk}/refire/", advertiser_key, {"only_failed": True})

    assert response.status_code == 202
    assert response.json() == {"queued": 1}
    assert (hits(receiver, "/good"), hits(receiver, "/bad")) == (1, 2)
    log = PostbackLog.objects.filter(trigger="refire").get()
    assert (log.postback_name, log.status, log.response_code) == ("Bad", "success", 200)
    assert Delivery.objects.get(config__name="Bad").state == "succeeded"


def test_only_failed_defaults_to_true(api, advertiser_key, fired, receiver):
    response = api.post(f"conversions/{fired.pk}/refire/", advertiser_key)
    assert response.json() == {"queued": 1}
    assert hits(receiver, "/good") == 1


def test_refire_everything(api, advertiser_key, fired, receiver):
    response = api.post(f"conversions/{fired.pk}/refire/", advertiser_key, {"only_failed": False})
    assert response.json() == {"queued": 2}
    assert (hits(receiver, "/good"), hits(receiver, "/bad")) == (2, 2)
    assert PostbackLog.objects.filter(trigger="refire").count() == 2


def test_idempotency_key_queues_nothing_twice(api, advertiser_key, fired, receiver):
    path = f"conversions/{fired.pk}/refire/"
    first = api.post(path, advertiser_key, {"only_failed": False}, HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post(path, advertiser_key, {"only_failed": False}, HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 202
    assert first.json() == again.json() == {"queued": 2}
    assert again["Idempotent-Replayed"] == "true"
    assert (hits(receiver, "/good"), hits(receiver, "/bad")) == (2, 2)
    assert PostbackLog.objects.filter(trigger="refire").count() == 2


def test_idempotency_key_with_another_body_is_422(api, advertiser_key, fired, receiver):
    path = f"conversions/{fired.pk}/refire/"
    api.post(path, advertiser_key, {"only_failed": True}, HTTP_IDEMPOTENCY_KEY="k-2")
    response = api.post(path, advertiser_key, {"only_failed": False}, HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 422
    assert list(errors(response)) == ["Idempotency-Key"]
    assert hits(receiver, "/good") == 1


def test_idempotency_keys_are_per_caller(api, advertiser_key, staff_key, fired, receiver):
    path = f"conversions/{fired.pk}/refire/"
    api.post(path, advertiser_key, {"only_failed": False}, HTTP_IDEMPOTENCY_KEY="shared")
    response = api.post(path, staff_key, {"only_failed": False}, HTTP_IDEMPOTENCY_KEY="shared")
    assert response.status_code == 202 and not response.has_header("Idempotent-Replayed")
    assert hits(receiver, "/good") == 3


def test_bad_idempotency_key_is_400(api, advertiser_key, fired):
    response = api.post(
        f"conversions/{fired.pk}/refire/", advertiser_key, HTTP_IDEMPOTENCY_KEY="x" * 256
    )
    assert response.status_code == 400
    assert list(errors(response)) == ["Idempotency-Key"]


def test_failed_request_does_not_keep_its_key(api, advertiser_key, fired):
    path = f"conversions/{fired.pk}/refire/"
    bad = api.post(path, advertiser_key, {"only_failed": "maybe"}, HTTP_IDEMPOTENCY_KEY="k-3")
    assert bad.status_code == 400
    assert list(errors(bad)) == ["only_failed"]
    assert not IdempotencyRecord.objects.exists()
    good = api.post(path, advertiser_key, {"only_failed": True}, HTTP_IDEMPOTENCY_KEY="k-3")
    assert good.status_code == 202


def test_refire_of_another_advertisers_conversion_is_404(api, outsider_key, fired, receiver):
    response = api.post(f"conversions/{fired.pk}/refire/", outsider_key, {"only_failed": False})
    assert response.status_code == 404
    assert hits(receiver, "/good") == 1
    assert not PostbackLog.objects.filter(trigger="refire").exists()


def test_bulk_refire_reports_unknown_and_foreign_ids(
    api, advertiser_key, fired, receiver, foreign_conversion
):
    receiver.answers["/bad"] = 200
    ids = [fired.transaction_id, "no-such-id", foreign_conversion.transaction_id]

    response = api.post(
        "conversions/refire/", advertiser_key, {"transaction_ids": ids + [fired.transaction_id]}
    )

    assert response.status_code == 202
    assert response.json() == {
        "queued": 1,
        "not_found": ["no-such-id", foreign_conversion.transaction_id],
    }
    assert hits(receiver, "/bad") == 2
    assert PostbackLog.objects.filter(trigger="refire", status="success").count() == 1


def test_bulk_refire_with_idempotency_key(api, advertiser_key, fired, receiver):
    body = {"transaction_ids": [fired.transaction_id], "only_failed": False}
    first = api.post("conversions/refire/", advertiser_key, body, HTTP_IDEMPOTENCY_KEY="b-1")
    again = api.post("conversions/refire/", advertiser_key, body, HTTP_IDEMPOTENCY_KEY="b-1")
    assert first.json() == again.json() == {"queued": 2, "not_found": []}
    assert hits(receiver, "/good") == 2


def test_bulk_refire_covers_every_conversion_of_a_transaction(
    api, client, advertiser_key, click, purchase, make_config, receiver
):
    make_config(receiver.url_for("/bad"), name="Base")
    make_config(receiver.url_for("/bad"), name="Events", postback_type="event")
    convert(client, advertiser_key, transaction_id=click.transaction_id)
    convert(client, advertiser_key, transaction_id=click.transaction_id, event="purchase")
    assert hits(receiver, "/bad") == 2

    response = api.post(
        "conversions/refire/", advertiser_key, {"transaction_ids": [click.transaction_id]}
    )

    assert response.json() == {"queued": 2, "not_found": []}
    assert hits(receiver, "/bad") == 4


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "transaction_ids"),
        ({"transaction_ids": []}, "transaction_ids"),
        ({"transaction_ids": "abc"}, "transaction_ids"),
        ({"transaction_ids": ["x"] * 1001}, "transaction_ids"),
        ({"transaction_ids": ["x" * 65]}, "transaction_ids.0"),
        ({"transaction_ids": ["ok", None]}, "transaction_ids.1"),
        ({"transaction_ids": ["ok"], "only_failed": "perhaps"}, "only_failed"),
    ],
)
def test_bulk_refire_bad_bodies_are_400(api, advertiser_key, body, field):
    response = api.post("conversions/refire/", advertiser_key, body)
    assert response.status_code == 400
    assert list(errors(response)) == [field]


def test_bulk_refire_accepts_the_documented_limit(api, advertiser_key, db):
    ids = [f"t{i}" for i in range(1000)]
    response = api.post("conversions/refire/", advertiser_key, {"transaction_ids": ids})
    assert response.status_code == 202
    assert response.json() == {"queued": 0, "not_found": ids}


def test_refire_of_a_rejected_conversion_queues_nothing(api, advertiser_key, click):
    conversion = Conversion.objects.create(
        transaction_id=click.transaction_id,
        click=click,
        offer=click.offer,
        publisher=click.publisher,
        status="rejected",
        dedupe_key="x",
    )
    response = api.post(f"conversions/{conversion.pk}/refire/", advertiser_key)
    assert response.json() == {"queued": 0}
    assert Click.objects.count() == 1


def test_concurrent_retries_with_one_key_refire_once(advertiser_key, fired, receiver):
    """Two identical requests racing with one key: one does the work, the other replays it."""
    import threading

    from django.db import connection
    from django.test import Client

    barrier = threading.Barrier(2)
    answers = []

    def send():
        barrier.wait()
        try:
            answers.append(
                Client().post(
                    f"/api/v1/conversions/{fired.pk}/refire/",
                    {"only_failed": False},
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {advertiser_key}",
                    HTTP_IDEMPOTENCY_KEY="race-1",
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answer.status_code for answer in answers) == [202, 202]
    assert [answer.json() for answer in answers] == [{"queued": 2}, {"queued": 2}]
    assert sum(answer.has_header("Idempotent-Replayed") for answer in answers) == 1
    assert (hits(receiver, "/good"), hits(receiver, "/bad")) == (2, 2)
    assert IdempotencyRecord.objects.count() == 1
