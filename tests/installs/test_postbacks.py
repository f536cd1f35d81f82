"""An install fires the matched publisher's Conversion postbacks, with the install macros."""

from urllib.parse import quote

import pytest

from offers.models import Conversion
from postbacks.models import Delivery, PostbackLog
from tests.installs.conftest import IDFA, minimal, send

# Committed transactions, so deliveries are dispatched after commit as in production.
pytestmark = pytest.mark.django_db(transaction=True)

INSTALL_MACROS = {
    "sp": ("s_publisher", "pub/1 & co"),
    "sc": ("s_campaign", "camp=1?x"),
    "site": ("s_site", "site #1"),
    "ag": ("s_adgroup", "ag+1 %41"),
    "ad": ("s_ad", "ad ünï"),
    "cost": ("cost", "0.35"),
    "dm": ("device_model", "iPhone15,2"),
    "db": ("device_brand", "Apple Inc."),
}
TEMPLATE = "&".join(f"{param}={{{name}}}" for param, (name, _) in INSTALL_MACROS.items())


def test_matched_publisher_gets_the_install_macros_url_encoded(
    client, how, advertiser_key, default_offer, make_config, httpserver
):
    make_config(
        httpserver.url_for("/pb")
        + f"?{TEMPLATE}&tid={{transaction_id}}&cid={{conversion_id}}&ifa={{ios_ifa}}"
        "&dev={device_id}&c={country}&ct={click_time}&it={conversion_time}&pay={payout}"
        "&o={offer_id}&st={status}"
    )
    httpserver.expect_request("/pb").respond_with_data("OK")
    fields = {name: value for name, value in INSTALL_MACROS.values()}
    response = send(
        client,
        how,
        advertiser_key,
        minimal(
            google_aid=None,
            ios_ifa=IDFA,
            publisher_name="TRAFFIC co",
            country_code="de",
            install_timestamp="2026-01-01 00:05:00",
            click_timestamp="2026-01-01 00:01:00",
            **fields,
        ),
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["publisher_matched"] is True and body["postbacks_queued"] == 1
    request, _ = httpserver.log[0]
    assert request.args.to_dict() == {
        **{param: value for param, (_, value) in INSTALL_MACROS.items()},
        "tid": body["transaction_id"],
        "cid": str(body["conversion_id"]),
        "ifa": IDFA,
        "dev": IDFA,
        "c": "DE",
        "ct": "2026-01-01T00:01:00Z",
        "it": "2026-01-01T00:05:00Z",
        "pay": "1.75",
        "o": str(default_offer.pk),
        "st": "approved",
    }
    raw_query = request.query_string.decode()
    for param, (_, value) in INSTALL_MACROS.items():
        assert f"{param}={quote(value, safe='')}&" in raw_query
    log = PostbackLog.objects.get()
    assert (log.status, log.response_code, log.postback_type) == ("success", 200, "conversion")
    assert log.transaction_id == body["transaction_id"]
    assert log.publisher_id == Conversion.objects.get().publisher_id


def test_sub_source_names_stand_in_when_only_names_are_sent(
    client, advertiser_key, default_offer, make_config, httpserver
):
    make_config(httpserver.url_for("/pb") + "?sp={s_publisher}&sc={s_campaign}&ad={s_ad}")
    httpserver.expect_request("/pb").respond_with_data("OK")
    response = send(
        client,
        "get",
        advertiser_key,
        minimal(s_publisher_name="Sub Pub", s_campaign_name="Sub Camp", s_campaign="sc-9"),
    )
    assert response.status_code == 200, response.content
    request, _ = httpserver.log[0]
    assert request.args.to_dict() == {"sp": "Sub Pub", "sc": "sc-9", "ad": ""}


def test_unmatched_publisher_fires_nothing(client, advertiser_key, default_offer, make_config):
    make_config("http://127.0.0.1:9/pb")
    response = send(client, "get", advertiser_key, minimal(publisher_name="Unknown Media"))
    assert response.json()["postbacks_queued"] == 0
    assert Delivery.objects.count() == 0 and PostbackLog.objects.count() == 0


def test_click_and_event_configs_do_not_fire_for_an_install(
    client, advertiser_key, default_offer, make_config
):
    make_config("http://127.0.0.1:9/click", postback_type="click")
    make_config("http://127.0.0.1:9/event", postback_type="event")
    response = send(client, "get", advertiser_key, minimal())
    assert response.json()["postbacks_queued"] == 0


def test_duplicate_fires_nothing_again(
    client, advertiser_key, default_offer, make_config, httpserver
):
    make_config(httpserver.url_for("/pb") + "?tid={transaction_id}")
    httpserver.expect_request("/pb").respond_with_data("nope", status=404)
    first = send(client, "get", advertiser_key, minimal(id="dup")).json()
    again = send(client, "get", advertiser_key, minimal(id="dup")).json()
    assert again["duplicate"] is True and again["postbacks_queued"] == 0
    assert len(httpserver.log) == 1
    assert PostbackLog.objects.get().transaction_id == first["transaction_id"]
