"""Fixtures for the custom postback API: an advertiser with a default offer, and a caller
that sends the same fields as a GET query string, a POST form or a POST JSON body."""

import json

import pytest

URL = "/api/v1/custom-postback/"
GAID = "38400000-8cf0-11bd-b23e-10b96e40000d"
IDFA = "EA7583CD-A667-48BC-B806-42ECB2B48606"


@pytest.fixture
def default_offer(advertiser, offer):
    advertiser.default_offer = offer
    advertiser.save()
    return offer


def minimal(**fields) -> dict:
    """The smallest valid install, with `fields` on top (None removes a field)."""
    params = {"publisher_name": "Traffic Co", "google_aid": GAID, **fields}
    return {name: value for name, value in params.items() if value is not None}


def send(client, how: str, key: str | None, params: dict, **extra):
    """Call the endpoint as a tracker would: how is "get", "form" or "json"."""
    if key is not None:
        extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {key}")
    if how == "get":
        return client.get(URL, params, **extra)
    if how == "form":
        return client.post(URL, params, **extra)
    return client.post(URL, json.dumps(params), content_type="application/json", **extra)


@pytest.fixture(params=["get", "form", "json"])
def how(request) -> str:
    """Every test that takes it runs for GET, POST form and POST JSON alike."""
    return request.param


@pytest.fixture
def install(client, how, advertiser_key, default_offer):
    """install(**fields) -> response, sent with the advertiser's key in the current way."""

    def call(**fields):
        return send(client, how, advertiser_key, minimal(**fields))

    return call


def errors_of(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["errors"]
