"""An advertiser's portal: its conversions with re-fire, reject and approve (the API's
services), and its attempts."""

import pytest

from offers.models import ConversionStatus
from postbacks.models import Delivery, DeliveryState, PostbackConfig


def test_conversions_list_only_the_advertisers(advertiser_client, ours, theirs):
    response = advertiser_client.get("/portal/conversions/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "tid-ours" in page and "tid-theirs" not in page
    assert "1 failed" in page  # what became of its postbacks


def test_conversion_filters(advertiser_client, ours, theirs):
    page = advertiser_client.get("/portal/conversions/?status=approved").content.decode()
    assert "tid-ours" not in page  # it is pending
    page = advertiser_client.get("/portal/conversions/?transaction_id=tid-ours").content.decode()
    assert "tid-ours" in page


@pytest.mark.parametrize(
    "query",
    ["offer=999999", "status=lost", "created_after=yesterday", "before=x"],
)
def test_bad_conversion_filters_are_a_400_naming_the_filter(advertiser_client, ours, query):
    response = advertiser_client.get(f"/portal/conversions/?{query}")
    assert response.status_code == 400
    assert 'id="filter-errors"' in response.content.decode()


def test_another_advertisers_offer_is_not_a_choice(advertiser_client, ours, theirs):
    response = advertiser_client.get(f"/portal/conversions/?offer={theirs.offer.pk}")
    assert response.status_code == 400


def test_the_list_pages_by_id(advertiser_client, ours):
    from offers.models import Conversion

    for number in range(55):
        Conversion.objects.create(
            transaction_id=f"bulk-{number}", offer=ours.offer, dedupe_key=f"bulk-{number}"
        )
    first = advertiser_client.get("/portal/conversions/")
    assert first.context["older_link"]
    second = advertiser_client.get("/portal/conversions/" + first.context["older_link"])
    seen = {c.pk for c in first.context["rows"]} | {c.pk for c in second.context["rows"]}
    assert len(seen) == 56 and not second.context["older_link"]


def test_approve_then_reject_through_the_services(advertiser_client, ours):
    rejection = PostbackConfig.objects.create(
        name="ours rejections",
        publisher=ours.publisher,
        postback_type="rejection",
        url="http://127.0.0.1:9/rej",
    )
    url = f"/portal/conversions/{ours.conversion.pk}/"
    assert advertiser_client.post(url + "approve/").status_code == 302
    ours.conversion.refresh_from_db()
    assert ours.conversion.status == ConversionStatus.APPROVED

    again = advertiser_client.post(url + "approve/", follow=True)
    assert "Only pending conversions can be approved" in again.content.decode()

    advertiser_client.post(url + "reject/", {"reason": "Chargeback"})
    ours.conversion.refresh_from_db()
    assert (ours.conversion.status, ours.conversion.rejection_reason) == (
        ConversionStatus.REJECTED,
        "Chargeback",
    )
    assert Delivery.objects.filter(config=rejection, conversion=ours.conversion).exists()
    page = advertiser_client.get(url).content.decode()
    assert 'id="reject"' not in page and 'id="refire"' not in page


def test_a_reject_without_a_reason_changes_nothing(advertiser_client, ours):
    response = advertiser_client.post(
        f"/portal/conversions/{ours.conversion.pk}/reject/", {"reason": "  "}, follow=True
    )
    assert "give a reason" in response.content.decode()
    ours.conversion.refresh_from_db()
    assert ours.conversion.status == ConversionStatus.PENDING


def test_refire_reopens_the_failed_delivery(advertiser_client, ours):
    response = advertiser_client.post(
        f"/portal/conversions/{ours.conversion.pk}/refire/", {"only_failed": "on"}, follow=True
    )
    assert "Re-fire queued: 1" in response.content.decode()
    ours.delivery.refresh_from_db()
    assert ours.delivery.state == DeliveryState.PENDING


def test_the_attempt_page_refires_and_links_the_portal_conversion(advertiser_client, ours):
    page = advertiser_client.get(f"/portal/logs/{ours.log.pk}/").content.decode()
    assert f'href="/portal/conversions/{ours.conversion.pk}/"' in page
    assert 'id="refire"' in page
    response = advertiser_client.post(f"/portal/logs/{ours.log.pk}/refire/")
    assert response["Location"] == f"/portal/logs/{ours.log.pk}/"
    ours.delivery.refresh_from_db()
    assert ours.delivery.state == DeliveryState.PENDING


def test_attempts_of_another_advertisers_offer_stay_hidden(advertiser_client, ours, crossed):
    page = advertiser_client.get("/portal/logs/").content.decode()
    assert "tid-ours" in page and "tid-crossed" not in page
