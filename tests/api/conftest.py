"""API fixtures: a caller that speaks JSON with a key, and conversions of two advertisers."""

import json
from decimal import Decimal

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from offers.models import Click, Conversion, Offer, Publisher


class Api:
    """Calls /api/v1/ as a script would: JSON in and out, the key in Authorization."""

    def __init__(self, client: Client):
        self.client = client

    def call(self, method: str, path: str, key: str | None = None, data=None, **headers):
        if key is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        url = path if path.startswith(("/", "http")) else f"/api/v1/{path}"
        send = getattr(self.client, method.lower())
        if method.upper() in ("GET", "HEAD"):
            return send(url, data or {}, **headers)
        body = data if isinstance(data, (str, bytes)) else json.dumps(data or {})
        return send(url, body, content_type="application/json", **headers)

    def get(self, path, key=None, params=None, **headers):
        return self.call("GET", path, key, params, **headers)

    def post(self, path, key=None, data=None, **headers):
        return self.call("POST", path, key, data, **headers)

    def patch(self, path, key=None, data=None, **headers):
        return self.call("PATCH", path, key, data, **headers)

    def put(self, path, key=None, data=None, **headers):
        return self.call("PUT", path, key, data, **headers)

    def delete(self, path, key=None, **headers):
        return self.call("DELETE", path, key, None, **headers)


@pytest.fixture
def api(client):
    return Api(client)


def make_conversion(click: Click, **fields) -> Conversion:
    event = fields.get("event")
    order_id = fields.get("order_id", "")
    fields.setdefault("revenue", Decimal("2.5"))
    fields.setdefault("payout", Decimal("1.75"))
    return Conversion.objects.create(
        transaction_id=click.transaction_id,
        click=click,
        offer=click.offer,
        publisher=click.publisher,
        dedupe_key=f"{click.transaction_id}|{event.pk if event else ''}|{order_id}",
        **fields,
    )


@pytest.fixture
def conversion(click):
    return make_conversion(click)


@pytest.fixture
def foreign_offer(outsider):
    return Offer.objects.create(
        advertiser=outsider, name="Other Install", destination_url="https://other.example/"
    )


@pytest.fixture
def foreign_click(foreign_offer, publisher):
    return Click.objects.create(offer=foreign_offer, publisher=publisher)


@pytest.fixture
def foreign_conversion(foreign_click):
    return make_conversion(foreign_click)


@pytest.fixture
def second_publisher(db):
    return Publisher.objects.create(name="Second Media")


def errors(response) -> dict:
    """The {field: [messages]} of an error answer, checking its shape on the way."""
    body = response.json()
    assert set(body) == {"errors"}, body
    assert all(
        isinstance(messages, list) and all(isinstance(m, str) for m in messages)
        for messages in body["errors"].values()
    ), body
    return body["errors"]


@pytest.fixture
def keep_connection():
    """As Django's test client does: the test's transaction outlives each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
