"""Who may report installs: the advertiser's key, from the advertiser's allowed addresses."""

import pytest

from offers.models import ApiKey, Conversion, Offer
from tests.installs.conftest import URL, minimal, send


def test_missing_key_is_401(client, how, default_offer):
    response = send(client, how, None, minimal())
    assert response.status_code == 401
    assert response.json() == {
        "errors": {
            "key": ["An API key is required: Authorization: Bearer <key>, or api_key=<key>."]
        }
    }
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Conversion.objects.count() == 0


def test_wrong_key_is_401(client, how, default_offer):
    response = send(client, how, "i8_not-a-key", minimal())
    assert response.status_code == 401
    assert response.json() == {"errors": {"key": ["The API key is not valid."]}}


def test_revoked_key_is_401(client, advertiser, default_offer):
    api_key, raw_key = ApiKey.issue(advertiser=advertiser)
    ApiKey.objects.filter(pk=api_key.pk).update(revoked=True)
    assert send(client, "get", raw_key, minimal()).status_code == 401


def test_staff_key_is_403_as_it_is_not_an_advertiser(client, how, staff_key, default_offer):
    response = send(client, how, staff_key, minimal())
    assert response.status_code == 403
    assert response.json()["errors"]["key"] == [
        "This is a staff key, not an advertiser's: an install belongs to an advertiser, "
        "so call with that advertiser's API key."
    ]
    assert Conversion.objects.count() == 0


def test_auth_comes_before_validation(client):
    response = client.get(URL, {"cost": "-1"})
    assert response.status_code == 401
    assert "cost" not in response.json()["errors"]


@pytest.mark.parametrize("param", ["api_key", "key"])
def test_key_as_a_query_parameter(client, advertiser_key, default_offer, param):
    response = client.get(URL, minimal(**{param: advertiser_key}))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("how_", ["form", "json"])
def test_key_in_a_post_body(client, advertiser_key, default_offer, how_):
    response = send(client, how_, None, minimal(api_key=advertiser_key))
    assert response.status_code == 200, response.content


def test_install_belongs_to_the_keys_advertiser(client, outsider, outsider_key, offer):
    # The outsider's key cannot reach the advertiser's default offer: it has its own.
    response = send(client, "get", outsider_key, minimal(campaign_id=offer.pk))
    assert response.status_code == 400
    assert response.json()["errors"]["campaign_id"] == [
        f"Other Corp has no offer with ID {offer.pk}."
    ]


class TestIpAllowlist:
    @pytest.fixture(autouse=True)
    def allowlist(self, advertiser):
        advertiser.ip_allowlist = ["127.0.0.1/32", "2001:db8::/32"]
        advertiser.save()

    def test_custom_postback_from_an_allowed_address(
        self, client, how, advertiser_key, default_offer
    ):
        response = send(client, how, advertiser_key, minimal(), REMOTE_ADDR="127.0.0.1")
        assert response.status_code == 200, response.content

    def test_custom_postback_from_an_allowed_ipv6_network(
        self, client, advertiser_key, default_offer
    ):
        response = send(client, "get", advertiser_key, minimal(), REMOTE_ADDR="2001:db8::7")
        assert response.status_code == 200, response.content

    def test_custom_postback_from_another_address_is_403(
        self, client, how, advertiser_key, default_offer
    ):
        response = send(client, how, advertiser_key, minimal(), REMOTE_ADDR="127.0.0.2")
        assert response.status_code == 403
        assert response.json() == {
            "errors": {"ip": ["Requests from 127.0.0.2 are not in the advertiser's IP allowlist."]}
        }
        assert Conversion.objects.count() == 0

    def test_conversion_from_an_allowed_address(self, client, click, advertiser_key):
        response = client.get(
            "/conversion/",
            {"transaction_id": click.transaction_id},
            HTTP_AUTHORIZATION=f"Bearer {advertiser_key}",
            REMOTE_ADDR="127.0.0.1",
        )
        assert response.status_code == 200, response.content

    def test_conversion_from_another_address_is_403(self, client, click, advertiser_key):
        response = client.get(
            "/conversion/",
            {"transaction_id": click.transaction_id},
            HTTP_AUTHORIZATION=f"Bearer {advertiser_key}",
            REMOTE_ADDR="127.0.0.2",
        )
        assert response.status_code == 403
        assert response.json() == {
            "errors": {"ip": ["Requests from 127.0.0.2 are not in the advertiser's IP allowlist."]}
        }
        assert Conversion.objects.count() == 0

    def test_allowlist_of_another_advertiser_does_not_apply(self, client, outsider, outsider_key):
        outsider.default_offer = Offer.objects.create(
            advertiser=outsider, name="Other", destination_url="https://o.example/"
        )
        outsider.save()
        response = send(client, "get", outsider_key, minimal(), REMOTE_ADDR="127.0.0.2")
        assert response.status_code == 200, response.content
