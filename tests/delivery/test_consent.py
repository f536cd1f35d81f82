"""Consent (SPEC §14): what a click, conversion or install says about the user, and what
each config does when the user denied it — seen at a real loopback receiver."""

import pytest

from offers.models import Click, Conversion
from postbacks.models import Delivery, DeliveryState, LogStatus, PostbackLog
from tests.conftest import convert
from tests.delivery.receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/pb?t={transaction_id}&gaid={google_aid}&dev={device_id}&ip={ip}&s1={sub1}"


@pytest.fixture
def denied_click(click):
    Click.objects.filter(pk=click.pk).update(consent="denied", ip="203.0.113.9")
    click.refresh_from_db()
    return click


def test_denied_and_strip_sends_without_identifiers(
    client, denied_click, advertiser_key, make_config, receiver
):
    make_config(receiver.url(URL))  # strip is the default

    convert(client, advertiser_key, transaction_id=denied_click.transaction_id)

    sent = receiver.wait_for(1)[0].path
    assert sent == f"/pb?t={denied_click.transaction_id}&gaid=&dev=&ip=&s1=s1"
    assert PostbackLog.objects.get().url.endswith("&gaid=&dev=&ip=&s1=s1")


def test_denied_and_skip_sends_nothing_and_logs_one_skipped_row(
    client, denied_click, advertiser_key, make_config, receiver
):
    make_config(receiver.url(URL), on_denied_consent="skip")

    convert(client, advertiser_key, transaction_id=denied_click.transaction_id)

    assert receiver.requests == []
    log = PostbackLog.objects.get()
    assert (log.status, log.error) == (
        LogStatus.SKIPPED,
        "No consent: the user denied it, and this config does not send then",
    )
    assert Delivery.objects.get().state == DeliveryState.SKIPPED


def test_denied_and_send_sends_as_usual(
    client, denied_click, advertiser_key, make_config, receiver
):
    make_config(receiver.url(URL), on_denied_consent="send")

    convert(client, advertiser_key, transaction_id=denied_click.transaction_id)

    assert "gaid=gaid-1&dev=gaid-1&ip=203.0.113.9" in receiver.wait_for(1)[0].path


def test_the_conversions_consent_overrides_the_clicks(
    client, denied_click, advertiser_key, make_config, receiver
):
    make_config(receiver.url(URL), on_denied_consent="skip")

    convert(client, advertiser_key, transaction_id=denied_click.transaction_id, consent="Granted")

    assert "gaid=gaid-1" in receiver.wait_for(1)[0].path
    assert Conversion.objects.get().consent == "granted"


def test_a_granted_or_unknown_consent_changes_nothing(
    client, click, advertiser_key, make_config, receiver
):
    make_config(receiver.url(URL), on_denied_consent="skip")

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert "gaid=gaid-1" in receiver.wait_for(1)[0].path


def test_a_conversions_bad_consent_is_a_400_naming_it(client, click, advertiser_key):
    response = convert(client, advertiser_key, transaction_id=click.transaction_id, consent="maybe")

    assert response.status_code == 400
    assert "granted, denied" in " ".join(response.json()["errors"]["consent"])
    assert not Conversion.objects.exists()


@pytest.mark.parametrize(
    ("sent", "stored"), [("denied", "denied"), ("GRANTED", "granted"), ("yes", "")]
)
def test_a_click_stores_its_consent_and_is_never_refused_for_it(
    client, offer, publisher, sent, stored
):
    response = client.get(f"/click/{offer.pk}/{publisher.pk}/", {"consent": sent})

    assert response.status_code == 302
    assert Click.objects.get().consent == stored


def test_an_install_carries_its_consent(
    client, advertiser_key, offer, publisher, make_config, receiver
):
    make_config(receiver.url("/i?gaid={google_aid}"), on_denied_consent="strip")
    receiver.answer(Answer(200))
    body = {
        "publisher_name": publisher.name,
        "campaign_id": offer.pk,
        "google_aid": "38400000-8cf0-11bd-b23e-10b96e40000d",
        "consent": "denied",
    }

    response = client.post(
        "/api/v1/custom-postback/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {advertiser_key}",
    )

    assert response.status_code in (200, 201), response.content
    assert Conversion.objects.get().consent == "denied"
    assert receiver.wait_for(1)[0].path == "/i?gaid="
