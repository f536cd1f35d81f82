"""Amounts are checked against what the money columns hold, on every entry point that stores one.

Revenue and payout are DecimalField(max_digits=12, decimal_places=4): at most
99999999.9999. Before, `amount=99999999.99999` was accepted, rounded to 13 digits, and
then could not be read back on SQLite (a 500 on PostgreSQL).
"""

import json
from decimal import Decimal

import pytest
from django.test import Client

from offers.models import Conversion, Offer, OfferEvent
from offers.money import largest, parse_amount, whole_limit
from tests.conftest import convert

REFUSED = [
    "99999999.99999",  # rounds to 100000000.0000: 13 digits
    "100000000",
    "1e8",
    "1e-5",
    "0.00001",
    "1.00001",
    "1e3",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "-1",
    "-0.0001",
    "12345678901234567890",
    "1" * 400,
    "1_000",
    "1,5",
    "0x10",
    "٣",
    "5 5",
    "$5",
    ".",
]
ACCEPTED = [
    ("99999999.9999", "99999999.9999"),
    ("0.0001", "0.0001"),
    ("0", "0.0000"),
    ("-0", "0.0000"),
    (" 5 ", "5.0000"),
    ("5.", "5.0000"),
    (".5", "0.5000"),
    ("1.50000", "1.5000"),  # trailing zeros lose nothing
    ("00012.3400", "12.3400"),
]
# JSON number literals, as an advertiser's server writes them (not quoted).
JSON_REFUSED = ["99999999.99999", "100000000", "1e8", "1e-5", "12345678901234567890", "-1"]
JSON_REFUSED += ["NaN", "Infinity", "1e400", "true", "[5]", '{"a": 5}']
JSON_ACCEPTED = [
    ("99999999.9999", "99999999.9999"),
    ("1e3", "1000.0000"),  # a JSON number; the text "1e3" is refused
    ("12.5", "12.5000"),
    ("0.0001", "0.0001"),
    ("-0", "0.0000"),
    ("7", "7.0000"),
]


def post_form(client, key, **params):
    return client.post("/conversion/", params, HTTP_AUTHORIZATION=f"Bearer {key}")


def post_json(client, key, body: str):
    return client.post(
        "/conversion/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )


def json_body(transaction_id: str, amount_literal: str) -> str:
    return f'{{"transaction_id": {json.dumps(transaction_id)}, "amount": {amount_literal}}}'


SENDERS = {
    "get": lambda client, key, tid, amount: convert(client, key, transaction_id=tid, amount=amount),
    "form": lambda client, key, tid, amount: post_form(
        client, key, transaction_id=tid, amount=amount
    ),
    "json string": lambda client, key, tid, amount: post_json(
        client, key, json_body(tid, json.dumps(amount))
    ),
    "json number": lambda client, key, tid, amount: post_json(client, key, json_body(tid, amount)),
}


def assert_refused_naming_amount(response):
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["amount"]
    assert Conversion.objects.count() == 0


def assert_round_trips(client, key, response, expected: str):
    assert response.status_code == 200, response.content
    conversion_id = response.json()["conversion_id"]
    assert Conversion.objects.get(pk=conversion_id).revenue == Decimal(expected)
    api = client.get(f"/api/v1/conversions/{conversion_id}/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.status_code == 200
    assert api.json()["revenue"] == expected


@pytest.mark.parametrize("sender", ["get", "form", "json string"])
@pytest.mark.parametrize("amount", REFUSED)
def test_amount_the_column_cannot_hold_exactly_is_refused(
    client, click, advertiser_key, sender, amount
):
    response = SENDERS[sender](client, advertiser_key, click.transaction_id, amount)
    assert_refused_naming_amount(response)


@pytest.mark.parametrize("amount", JSON_REFUSED)
def test_json_number_the_column_cannot_hold_is_refused(client, click, advertiser_key, amount):
    response = SENDERS["json number"](client, advertiser_key, click.transaction_id, amount)
    assert_refused_naming_amount(response)


@pytest.mark.parametrize("sender", ["get", "form", "json string"])
@pytest.mark.parametrize(("amount", "expected"), ACCEPTED)
def test_accepted_amount_round_trips_exactly_through_the_api(
    client, click, advertiser_key, sender, amount, expected
):
    response = SENDERS[sender](client, advertiser_key, click.transaction_id, amount)
    assert_round_trips(client, advertiser_key, response, expected)


@pytest.mark.parametrize(("amount", "expected"), JSON_ACCEPTED)
def test_accepted_json_number_round_trips_exactly(client, click, advertiser_key, amount, expected):
    response = SENDERS["json number"](client, advertiser_key, click.transaction_id, amount)
    assert_round_trips(client, advertiser_key, response, expected)


def test_too_large_amount_says_the_largest_accepted(client, click, advertiser_key):
    response = convert(
        client, advertiser_key, transaction_id=click.transaction_id, amount="99999999.99999"
    )
    assert response.json()["errors"] == {
        "amount": ["'99999999.99999' is too large: the largest amount accepted is 99999999.9999."]
    }


def test_amount_beyond_four_places_is_refused_not_rounded(client, click, advertiser_key):
    response = convert(
        client, advertiser_key, transaction_id=click.transaction_id, amount="0.00001"
    )
    assert response.json()["errors"] == {
        "amount": [
            "'0.00001' has more than 4 decimal places: "
            "amounts are stored to 4 places and are not rounded."
        ]
    }


@pytest.mark.parametrize("amount", ["1e3", "NaN", "1_000"])
def test_amount_not_in_plain_notation_says_how_to_write_it(client, click, advertiser_key, amount):
    response = convert(client, advertiser_key, transaction_id=click.transaction_id, amount=amount)
    (message,) = response.json()["errors"]["amount"]
    assert message.startswith(f"{amount!r} is not a decimal number")
    assert "e.g. 12.34" in message


def test_bad_amount_is_reported_with_the_other_bad_fields(client, click, advertiser_key):
    response = convert(
        client,
        advertiser_key,
        transaction_id=click.transaction_id,
        amount="1e9",
        currency="QQQ",
        status="done",
    )
    assert set(response.json()["errors"]) == {"amount", "currency", "status"}
    assert Conversion.objects.count() == 0


def test_limits_come_from_the_revenue_column():
    column = Conversion._meta.get_field("revenue")
    assert largest(column) == Decimal("99999999.9999")
    assert whole_limit(column) == Decimal("100000000")
    assert str(parse_amount("99999999.9999", column)) == "99999999.9999"


# The API and the admin store offer and event prices in the same kind of column.


def bearer(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.mark.parametrize("field", ["revenue", "payout"])
@pytest.mark.parametrize("value", [100000000, "100000000", "1.00001", 1.00001, "99999999.99999"])
def test_api_refuses_an_offer_price_the_column_cannot_hold(
    client, advertiser, staff_key, field, value
):
    body = {"advertiser": advertiser.pk, "name": "Big", "destination_url": "https://x.example/"}
    response = client.post(
        "/api/v1/offers/",
        {**body, field: value},
        content_type="application/json",
        **bearer(staff_key),
    )
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [field]
    assert Offer.objects.count() == 0


@pytest.mark.parametrize("field", ["revenue", "payout"])
@pytest.mark.parametrize("value", [100000000, "1.00001"])
def test_api_refuses_an_event_price_the_column_cannot_hold(client, offer, staff_key, field, value):
    response = client.post(
        "/api/v1/offer-events/",
        {"offer": offer.pk, "name": "purchase", field: value},
        content_type="application/json",
        **bearer(staff_key),
    )
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [field]
    assert OfferEvent.objects.count() == 0


def test_api_keeps_the_largest_offer_price_exactly(client, offer, staff_key):
    response = client.patch(
        f"/api/v1/offers/{offer.pk}/",
        {"revenue": "99999999.9999", "payout": 99999999.9999},
        content_type="application/json",
        **bearer(staff_key),
    )
    assert response.status_code == 200, response.content
    offer.refresh_from_db()
    assert (offer.revenue, offer.payout) == (Decimal("99999999.9999"),) * 2
    assert (
        client.get(f"/api/v1/offers/{offer.pk}/", **bearer(staff_key)).json()["revenue"]
        == "99999999.9999"
    )


@pytest.fixture
def admin_client(django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root", "", "pw"))
    return client


def test_admin_refuses_an_event_price_the_column_cannot_hold(admin_client, offer):
    response = admin_client.post(
        "/admin/offers/offerevent/add/",
        {"offer": offer.pk, "name": "purchase", "revenue": "100000000", "payout": "1.00001"},
    )
    assert response.status_code == 200  # the form again, with its errors
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"revenue", "payout"}
    assert OfferEvent.objects.count() == 0


def test_admin_refuses_an_offer_price_the_column_cannot_hold(admin_client, advertiser):
    response = admin_client.post(
        "/admin/offers/offer/add/",
        {
            "advertiser": advertiser.pk,
            "name": "Big",
            "status": "active",
            "destination_url": "https://x.example/",
            "revenue": "100000000",
            "payout": "0",
            "currency": "USD",
            "attribution_window_days": "30",
            "created_0": "2026-01-01",
            "created_1": "00:00:00",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"revenue"}
    assert Offer.objects.count() == 0
