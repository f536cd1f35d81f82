"""Per-IP limits on the public endpoints (SPEC §14): past the rate a 429 with Retry-After,
JSON for the server-to-server calls; other addresses are not held up."""

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


def test_clicks_past_the_rate_get_429_and_other_ips_go_on(client, offer, publisher, settings):
    settings.CLICK_RATE_PER_IP = "3/m"
    path = f"/click/{offer.pk}/{publisher.pk}/"

    codes = [client.get(path, REMOTE_ADDR="198.51.100.1").status_code for _ in range(4)]

    assert codes == [302, 302, 302, 429]
    refused = client.get(path, REMOTE_ADDR="198.51.100.1")
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "Too many requests" in refused.content.decode()
    assert client.get(path, REMOTE_ADDR="198.51.100.2").status_code == 302


def test_conversions_past_the_rate_get_json_429(client, click, advertiser_key, settings):
    settings.CONVERSION_RATE_PER_IP = "1/m"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {advertiser_key}", "REMOTE_ADDR": "198.51.100.3"}
    assert (
        client.get("/conversion/", {"transaction_id": click.transaction_id}, **auth).status_code
        == 200
    )

    refused = client.get("/conversion/", {"transaction_id": click.transaction_id}, **auth)

    assert refused.status_code == 429
    assert "throttle" in refused.json()["errors"]
    assert refused["Retry-After"]


def test_the_custom_postback_api_is_limited_too(client, advertiser_key, settings):
    settings.CUSTOM_POSTBACK_RATE_PER_IP = "1/h"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {advertiser_key}", "REMOTE_ADDR": "198.51.100.4"}
    client.get("/api/v1/custom-postback/", **auth)

    refused = client.get("/api/v1/custom-postback/", **auth)

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) <= 3600
