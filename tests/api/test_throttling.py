"""API rate limits (SPEC §14): past API_RATE a key gets 429 with Retry-After; other keys
are not held up by it."""

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def low_rate(settings):
    settings.API_RATE = "3/m"
    cache.clear()
    yield
    cache.clear()


def get(client, key):
    return client.get("/api/v1/conversions/", HTTP_AUTHORIZATION=f"Bearer {key}")


def test_past_the_rate_a_key_gets_429_with_retry_after(client, advertiser_key, outsider_key):
    assert [get(client, advertiser_key).status_code for _ in range(3)] == [200, 200, 200]

    refused = get(client, advertiser_key)

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "throttle" in refused.json()["errors"]
    assert get(client, outsider_key).status_code == 200  # counted per key


def test_an_empty_rate_turns_the_limit_off(client, advertiser_key, settings):
    settings.API_RATE = ""
    assert {get(client, advertiser_key).status_code for _ in range(10)} == {200}
