"""Which offer and publisher an install belongs to, and what the conversion keeps."""

from decimal import Decimal

import pytest

from offers.models import Conversion, Offer, Publisher
from tests.installs.conftest import GAID, IDFA, errors_of, minimal, send

EVERYTHING = {
    "install_timestamp": "2026-01-01 00:05:00",
    "click_timestamp": "2026-01-01T01:00:00+01:00",
    "publisher_name": "Traffic Co",
    "campaign_name": "Spring",
    "country_code": "us",
    "s_publisher_name": "Sub Pub",
    "s_publisher": "sp-1",
    "s_campaign_name": "Sub Campaign",
    "s_campaign": "sc-1",
    "s_site_name": "Site",
    "s_site": "site-1",
    "s_adgroup_name": "Group",
    "s_adgroup": "ag-1",
    "s_ad_name": "Ad",
    "s_ad": "ad-1",
    "s_keyword_name": "games",
    "s_placement_name": "banner top",
    "device_model": "iPhone15,2",
    "device_brand": "Apple",
    "event_name": "install",
    "cost": "0.350",
    "id": "inst-1",
    "ios_ifa": IDFA,
    "ios_ifv": GAID,
    "google_aid": GAID,
    "windows_aid": GAID,
    "os_id": "os-1",
    "user_id": "user-1",
}


@pytest.fixture
def other_offer(advertiser):
    return Offer.objects.create(
        advertiser=advertiser,
        name="Acme Second",
        destination_url="https://store.example/2",
        revenue=Decimal("3"),
        payout=Decimal("2"),
        currency="EUR",
    )


def test_every_field_is_kept_under_its_name(client, how, advertiser_key, default_offer, publisher):
    response = send(client, how, advertiser_key, EVERYTHING)
    assert response.status_code == 200, response.content
    conversion = Conversion.objects.get()
    assert conversion.attributes == {
        **{
            name: value
            for name, value in EVERYTHING.items()
            if name
            not in ("install_timestamp", "click_timestamp", "publisher_name", "id", "country_code")
        },
        "country_code": "US",
        "cost": "0.35",
        "install_time": "2026-01-01T00:05:00Z",
        "click_time": "2026-01-01T00:00:00Z",
    }
    assert conversion.install_id == "inst-1"
    assert conversion.publisher_name == "Traffic Co"
    assert conversion.publisher == publisher


def test_install_is_a_conversion_without_a_click(install, default_offer):
    body = install(install_timestamp="1767225900").json()
    conversion = Conversion.objects.get(pk=body["conversion_id"])
    assert conversion.click is None
    assert conversion.event is None
    assert conversion.status == "approved"
    assert (conversion.revenue, conversion.payout, conversion.currency) == (
        Decimal("2.5"),
        Decimal("1.75"),
        "USD",
    )
    assert conversion.offer == default_offer
    assert conversion.transaction_id == body["transaction_id"]
    assert len(conversion.transaction_id) == 24


def test_each_install_gets_its_own_transaction_id(install):
    first = install(id="a").json()["transaction_id"]
    second = install(id="b").json()["transaction_id"]
    assert first != second


def test_campaign_id_selects_one_of_the_advertisers_offers(install, other_offer):
    assert install(campaign_id=str(other_offer.pk)).status_code == 200
    conversion = Conversion.objects.get()
    assert conversion.offer == other_offer
    assert (conversion.payout, conversion.currency) == (Decimal("2"), "EUR")


def test_campaign_id_of_a_paused_offer_is_accepted(install, other_offer):
    # Installs arrive after a campaign was paused; they still happened.
    Offer.objects.filter(pk=other_offer.pk).update(status="paused")
    assert install(campaign_id=str(other_offer.pk)).status_code == 200


def test_campaign_id_of_another_advertisers_offer_is_refused(install, outsider):
    theirs = Offer.objects.create(advertiser=outsider, name="Theirs", destination_url="https://t/")
    errors = errors_of(install(campaign_id=str(theirs.pk)))
    assert errors == {"campaign_id": [f"Acme Games has no offer with ID {theirs.pk}."]}
    assert Conversion.objects.count() == 0


def test_unknown_campaign_id_is_refused(install):
    errors = errors_of(install(campaign_id="987654"))
    assert errors == {"campaign_id": ["Acme Games has no offer with ID 987654."]}


def test_without_campaign_id_or_default_offer_is_refused(client, how, advertiser_key, offer):
    errors = errors_of(send(client, how, advertiser_key, minimal()))
    assert errors == {
        "campaign_id": [
            "Acme Games has no default offer, so campaign_id (one of its offer IDs) is required. "
            "Ops can set a default offer on the advertiser."
        ]
    }


def test_default_offer_of_another_advertiser_is_not_used(
    client, advertiser, advertiser_key, outsider
):
    theirs = Offer.objects.create(advertiser=outsider, name="Theirs", destination_url="https://t/")
    advertiser.default_offer = theirs
    advertiser.save()
    errors = errors_of(send(client, "get", advertiser_key, minimal()))
    assert errors == {
        "campaign_id": [
            f"Acme Games's default offer (#{theirs.pk}) belongs to another advertiser; "
            "give campaign_id, and ask ops to fix the default offer."
        ]
    }
    assert Conversion.objects.count() == 0


def test_without_default_offer_campaign_id_still_works(client, advertiser_key, offer):
    response = send(client, "get", advertiser_key, minimal(campaign_id=offer.pk))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("name", ["Traffic Co", "traffic co", "TRAFFIC CO", "  Traffic Co "])
def test_publisher_name_matches_case_insensitively(install, publisher, name):
    body = install(publisher_name=name).json()
    assert body["publisher_matched"] is True
    assert Conversion.objects.get().publisher == publisher


def test_several_publishers_with_the_name_match_the_lowest_id(install, publisher):
    Publisher.objects.create(name="TRAFFIC CO")
    install(publisher_name="traffic co")
    assert Conversion.objects.get().publisher == publisher


def test_unmatched_publisher_is_stored_without_publisher(install, publisher):
    body = install(publisher_name="Nobody Media").json()
    assert body["publisher_matched"] is False
    assert body["postbacks_queued"] == 0
    conversion = Conversion.objects.get()
    assert conversion.publisher is None
    assert conversion.publisher_name == "Nobody Media"


def test_publisher_name_is_not_a_substring_match(install, publisher):
    assert install(publisher_name="Traffic").json()["publisher_matched"] is False


def test_conversions_api_scope_sees_the_install(install, advertiser, outsider):
    install()
    assert Conversion.objects.for_advertiser(advertiser).count() == 1
    assert Conversion.objects.for_advertiser(outsider).count() == 0
