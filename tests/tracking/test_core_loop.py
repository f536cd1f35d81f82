"""Click → conversion → postback → log, end to end through a loopback receiver."""

from urllib.parse import parse_qs, urlsplit

import pytest

from offers.models import Click, Conversion
from postbacks.models import PostbackLog
from tests.conftest import convert

# Committed transactions, so deliveries are dispatched after commit as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def test_click_redirects_with_macros_and_records(client, offer, publisher):
    response = client.get(
        f"/click/{offer.pk}/{publisher.pk}/", {"sub1": "a b&c", "google_aid": "g1"}
    )
    assert response.status_code == 302
    click = Click.objects.get()
    assert click.sub1 == "a b&c" and click.google_aid == "g1"
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query == {"cid": [click.transaction_id], "s1": ["a b&c"]}


def test_conversion_fires_postback_with_encoded_macros(
    client, click, advertiser_key, make_config, httpserver
):
    click.sub2 = "x=1#y ünï"
    click.save()
    make_config(
        httpserver.url_for("/pb")
        + "?tid={transaction_id}&s2={sub2}&s3={sub3}&rev={revenue}&st={status}"
    )
    httpserver.expect_request("/pb").respond_with_data("OK")

    response = convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["duplicate"] is False and body["postbacks_queued"] == 1
    request, _ = httpserver.log[0]
    assert request.args.to_dict() == {
        "tid": click.transaction_id,
        "s2": "x=1#y ünï",
        "s3": "",
        "rev": "2.5",
        "st": "approved",
    }
    log = PostbackLog.objects.get()
    assert (log.status, log.response_code, log.server_response, log.error) == (
        "success",
        200,
        "OK",
        "",
    )
    assert log.transaction_id == click.transaction_id
    assert log.offer_id == click.offer_id and log.publisher_id == click.publisher_id
    assert Conversion.objects.get().pk == body["conversion_id"]


def test_every_macro_arrives_encoded(
    client, offer, publisher, purchase, advertiser_key, make_config, httpserver
):
    from postbacks.macros import MACROS

    names = sorted(MACROS)
    make_config(
        httpserver.url_for("/all") + "?" + "&".join(f"{name}={{{name}}}" for name in names),
        postback_type="event",
    )
    httpserver.expect_request("/all").respond_with_data("ok")
    tricky = {"sub1": "a b", "sub2": "x&y=z", "sub3": "#frag", "sub4": "ünï €", "ios_ifa": "IFA"}
    response = client.get(
        f"/click/{offer.pk}/{publisher.pk}/",
        tricky,
        HTTP_CF_IPCOUNTRY="de",
        REMOTE_ADDR="198.51.100.4",
    )
    click = Click.objects.get()

    convert(
        client,
        advertiser_key,
        transaction_id=click.transaction_id,
        event="purchase",
        amount="12.30",
        order_id="o-1",
    )

    assert response.status_code == 302
    request, _ = httpserver.log[0]
    args = request.args.to_dict()
    assert set(args) == set(names)
    conversion = Conversion.objects.get()
    expected = {
        "transaction_id": click.transaction_id,
        "click_id": click.transaction_id,
        "offer_id": str(offer.pk),
        "campaign_id": str(offer.pk),
        "offer_name": "Acme Install",
        "advertiser_id": str(offer.advertiser_id),
        "publisher_id": str(publisher.pk),
        "event_id": str(purchase.pk),
        "event_name": "purchase",
        "conversion_id": str(conversion.pk),
        "status": "approved",
        "revenue": "12.3",
        "payout": "4",
        "currency": "USD",
        **tricky,
        "sub5": "",
        "google_aid": "",
        "device_id": "IFA",
        "country": "DE",
        "ip": "198.51.100.4",
        "rejection_reason": "",
    }
    for name, value in expected.items():
        assert args[name] == value, name
    assert args["click_time"].endswith("Z") and args["conversion_time"].endswith("Z")
    assert args["timestamp"].isdigit()
    log = PostbackLog.objects.get()
    assert log.url.startswith(httpserver.url_for("/all?"))
    assert "&sub2=x%26y%3Dz&sub3=%23frag&sub4=%C3%BCn%C3%AF%20%E2%82%AC&sub5=&" in log.url
    assert (log.postback_type, log.event_id, log.method, log.attempt, log.trigger) == (
        "event",
        purchase.pk,
        "GET",
        1,
        "automatic",
    )
