"""GET /api/v1/conversions/ and /conversions/<id>/: fields, filters, pages, scoping."""

from datetime import timedelta

import pytest
from django.utils import timezone

from offers.models import Click
from postbacks.models import Delivery
from tests.api.conftest import errors, make_conversion

pytestmark = pytest.mark.django_db

FIELDS = [
    "id",
    "transaction_id",
    "offer",
    "publisher",
    "event",
    "status",
    "revenue",
    "payout",
    "currency",
    "order_id",
    "rejection_reason",
    "consent",
    "created",
    "deliveries",
]


def test_it_lists_own_conversions_with_spec_fields(api, advertiser_key, conversion):
    response = api.get("conversions/", key=advertiser_key)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    [row] = body["results"]
    assert list(row) == FIELDS
    assert row["id"] == conversion.pk
    assert row["offer"] == conversion.offer_id
    assert row["publisher"] == conversion.publisher_id
    assert row["event"] is None
    assert row["status"] == "approved"
    assert row["revenue"] == "2.5000"


def test_it_hides_other_advertisers_conversions(
    api, advertiser_key, conversion, foreign_conversion
):
    rows = api.get("conversions/", key=advertiser_key).json()["results"]
    assert [row["id"] for row in rows] == [conversion.pk]


def test_staff_sees_every_conversion(api, staff_key, conversion, foreign_conversion):
    rows = api.get("conversions/", key=staff_key).json()["results"]
    assert {row["id"] for row in rows} == {conversion.pk, foreign_conversion.pk}


def test_detail_includes_deliveries(api, advertiser_key, conversion, make_config):
    config = make_config("https://pb.example/?t={transaction_id}", name="Main")
    delivery = Delivery.objects.create(
        config=config,
        postback_type="conversion",
        conversion=conversion,
        state="failed",
        attempts=2,
        last_response_code=404,
        last_error="HTTP 404",
    )
    response = api.get(f"conversions/{conversion.pk}/", key=advertiser_key)
    assert response.status_code == 200
    [row] = response.json()["deliveries"]
    assert row == {
        "id": delivery.pk,
        "config": {"id": config.pk, "name": "Main"},
        "postback_type": "conversion",
        "state": "failed",
        "attempts": 2,
        "next_attempt_at": row["next_attempt_at"],
        "last_response_code": 404,
        "last_error": "HTTP 404",
        "webhook_id": delivery.webhook_id,
    }
    assert row["next_attempt_at"].endswith("Z")


def test_another_advertisers_conversion_is_404(api, advertiser_key, foreign_conversion):
    response = api.get(f"conversions/{foreign_conversion.pk}/", key=advertiser_key)
    assert response.status_code == 404
    assert errors(response) == {"detail": ["No Conversion matches the given query."]}


def test_unknown_conversion_is_404(api, advertiser_key):
    assert api.get("conversions/999999/", key=advertiser_key).status_code == 404


@pytest.fixture
def three(click, offer, second_publisher):
    other_click = Click.objects.create(offer=offer, publisher=second_publisher)
    now = timezone.now()
    return [
        make_conversion(click, status="approved", created=now - timedelta(days=2)),
        make_conversion(click, status="pending", order_id="o-2", created=now - timedelta(days=1)),
        make_conversion(other_click, status="rejected", created=now),
    ]


def _ids(api, key, **params):
    response = api.get("conversions/", key=key, params=params)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_newest_first(api, advertiser_key, three):
    assert _ids(api, advertiser_key) == [c.pk for c in reversed(three)]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"status": "pending"}, [1]),
        ({"status": "rejected"}, [2]),
        ({"publisher_id": "PUB2"}, [2]),
        ({"transaction_id": "TXN0"}, [1, 0]),
    ],
)
def test_filters(api, advertiser_key, three, params, expected):
    values = {
        "PUB2": str(three[2].publisher_id),
        "TXN0": three[0].transaction_id,
    }
    params = {name: values.get(value, value) for name, value in params.items()}
    assert _ids(api, advertiser_key, **params) == [three[i].pk for i in expected]


def test_offer_and_time_filters(api, advertiser_key, three):
    middle = three[1].created
    assert _ids(api, advertiser_key, offer_id=three[0].offer_id) == [c.pk for c in three[::-1]]
    assert _ids(api, advertiser_key, created_after=middle.isoformat()) == [three[2].pk, three[1].pk]
    assert _ids(api, advertiser_key, created_before=middle.isoformat()) == [three[0].pk]


def test_foreign_offer_filter_finds_nothing(api, advertiser_key, foreign_conversion):
    assert _ids(api, advertiser_key, offer_id=foreign_conversion.offer_id) == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"offer_id": "abc"}, "offer_id"),
        ({"publisher_id": "-1"}, "publisher_id"),
        ({"offer_id": str(10**30)}, "offer_id"),
        ({"status": "done"}, "status"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2026-13-01"}, "created_before"),
        ({"transaction_id": "x" * 65}, "transaction_id"),
        ({"transaction_id": "a\x00b"}, "transaction_id"),
        ({"colour": "red"}, "colour"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "lots"}, "page_size"),
        ({"cursor": "garbage"}, "cursor"),
    ],
)
def test_bad_parameters_are_400_naming_them(api, advertiser_key, params, field):
    response = api.get("conversions/", key=advertiser_key, params=params)
    assert response.status_code == 400
    assert list(errors(response)) == [field]


def test_cursor_pages_through_everything(api, advertiser_key, three):
    seen = []
    response = api.get("conversions/", key=advertiser_key, params={"page_size": 2})
    while True:
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        if not body["next"]:
            break
        response = api.get(body["next"], key=advertiser_key)
    assert seen == [c.pk for c in reversed(three)]


def test_tampered_cursor_position_is_400(api, advertiser_key):
    import base64

    cursor = base64.b64encode(b"p=not-a-time").decode()
    response = api.get("conversions/", key=advertiser_key, params={"cursor": cursor})
    assert response.status_code == 400
    assert errors(response) == {"cursor": ["Invalid cursor."]}
