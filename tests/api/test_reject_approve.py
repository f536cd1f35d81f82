"""Reject and approve: the status changes, publishers hear about it, bad moves are 409."""

import pytest

from offers.models import Conversion
from postbacks.models import PostbackLog
from tests.api.conftest import errors
from tests.conftest import convert

pytestmark = pytest.mark.django_db(transaction=True)

REASON = "Fraud: bots & click-spam = 100% / ünï"


def test_reject_fires_rejection_postback_with_encoded_reason(
    api, client, advertiser_key, click, make_config, httpserver
):
    make_config(
        httpserver.url_for("/reject") + "?t={transaction_id}&st={status}&why={rejection_reason}",
        name="Rejections",
        postback_type="rejection",
    )
    httpserver.expect_request("/reject").respond_with_data("OK")
    convert(client, advertiser_key, transaction_id=click.transaction_id)
    conversion = Conversion.objects.get()

    response = api.post(f"conversions/{conversion.pk}/reject/", advertiser_key, {"reason": REASON})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["rejection_reason"]) == (
        conversion.pk,
        "rejected",
        REASON,
    )
    assert [d["postback_type"] for d in body["deliveries"]] == ["rejection"]
    [(request, _)] = httpserver.log
    assert request.args.to_dict() == {
        "t": click.transaction_id,
        "st": "rejected",
        "why": REASON,
    }
    assert b"why=Fraud%3A%20bots%20%26%20click-spam%20%3D%20100%25%20%2F%20%C3%BC" in (
        request.query_string
    )
    log = PostbackLog.objects.get()
    assert (log.postback_type, log.status) == ("rejection", "success")
    conversion.refresh_from_db()
    assert conversion.status == "rejected" and conversion.rejection_reason == REASON


def test_reject_twice_is_409(api, advertiser_key, click):
    conversion = Conversion.objects.create(
        transaction_id=click.transaction_id,
        click=click,
        offer=click.offer,
        publisher=click.publisher,
        dedupe_key="k",
        status="rejected",
        rejection_reason="first",
    )
    response = api.post(f"conversions/{conversion.pk}/reject/", advertiser_key, {"reason": "x"})
    assert response.status_code == 409
    assert errors(response) == {"status": ["The conversion is already rejected."]}
    conversion.refresh_from_db()
    assert conversion.rejection_reason == "first"


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "This field is required."),
        ({"reason": ""}, "This field may not be blank."),
        ({"reason": "x" * 1001}, "Ensure this field has no more than 1000 characters."),
        ({"reason": None}, "This field may not be null."),
    ],
)
def test_reject_needs_a_reason(api, advertiser_key, click, body, message):
    conversion = Conversion.objects.create(
        transaction_id=click.transaction_id,
        click=click,
        offer=click.offer,
        publisher=click.publisher,
        dedupe_key="k",
    )
    response = api.post(f"conversions/{conversion.pk}/reject/", advertiser_key, body)
    assert response.status_code == 400
    assert errors(response) == {"reason": [message]}
    conversion.refresh_from_db()
    assert conversion.status == "approved"


def test_reject_of_another_advertisers_conversion_is_404(api, outsider_key, click):
    conversion = Conversion.objects.create(
        transaction_id=click.transaction_id,
        click=click,
        offer=click.offer,
        publisher=click.publisher,
        dedupe_key="k",
    )
    response = api.post(f"conversions/{conversion.pk}/reject/", outsider_key, {"reason": "x"})
    assert response.status_code == 404
    conversion.refresh_from_db()
    assert conversion.status == "approved"


def test_reject_with_idempotency_key_replays_the_first_answer(
    api, advertiser_key, click, make_config, httpserver
):
    make_config(httpserver.url_for("/reject"), postback_type="rejection")
    httpserver.expect_request("/reject").respond_with_data("OK")
    conversion = Conversion.objects.create(
        transaction_id=click.transaction_id,
        click=click,
        offer=click.offer,
        publisher=click.publisher,
        dedupe_key="k",
    )
    path = f"conversions/{conversion.pk}/reject/"
    first = api.post(path, advertiser_key, {"reason": "dup"}, HTTP_IDEMPOTENCY_KEY="r-1")
    again = api.post(path, advertiser_key, {"reason": "dup"}, HTTP_IDEMPOTENCY_KEY="r-1")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert len(httpserver.log) == 1


def test_approve_of_pending_conversion_fires(
    api, client, advertiser_key, click, make_config, httpserver
):
    make_config(httpserver.url_for("/pb") + "?st={status}")
    httpserver.expect_request("/pb").respond_with_data("OK")
    convert(client, advertiser_key, transaction_id=click.transaction_id, status="pending")
    conversion = Conversion.objects.get()
    assert conversion.status == "pending" and not httpserver.log

    response = api.post(f"conversions/{conversion.pk}/approve/", advertiser_key)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    [(request, _)] = httpserver.log
    assert request.args["st"] == "approved"
    assert PostbackLog.objects.get().status == "success"


@pytest.mark.parametrize("status", ["approved", "rejected"])
def test_approve_of_non_pending_is_409(api, advertiser_key, click, status):
    conversion = Conversion.objects.create(
        transaction_id=click.transaction_id,
        click=click,
        offer=click.offer,
        publisher=click.publisher,
        dedupe_key="k",
        status=status,
    )
    response = api.post(f"conversions/{conversion.pk}/approve/", advertiser_key)
    assert response.status_code == 409
    assert errors(response) == {
        "status": [f"Only pending conversions can be approved; this one is {status}."]
    }


def test_approve_of_another_advertisers_conversion_is_404(api, outsider_key, click):
    conversion = Conversion.objects.create(
        transaction_id=click.transaction_id,
        click=click,
        offer=click.offer,
        publisher=click.publisher,
        dedupe_key="k",
        status="pending",
    )
    assert api.post(f"conversions/{conversion.pk}/approve/", outsider_key).status_code == 404
    conversion.refresh_from_db()
    assert conversion.status == "pending"
