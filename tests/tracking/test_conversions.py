"""/conversion/: pricing, events, duplicates, pending status, and its JSON/form variants."""

from decimal import Decimal

import pytest

from offers.models import Conversion
from postbacks.models import Delivery, PostbackLog
from tests.conftest import convert

pytestmark = pytest.mark.django_db(transaction=True)


def test_base_conversion_takes_offer_prices(client, click, advertiser_key):
    body = convert(client, advertiser_key, transaction_id=click.transaction_id).json()
    conversion = Conversion.objects.get(pk=body["conversion_id"])
    assert (conversion.revenue, conversion.payout) == (Decimal("2.5"), Decimal("1.75"))
    assert conversion.status == "approved" and conversion.event is None
    assert conversion.click == click and conversion.publisher == click.publisher


def test_amount_and_currency_override(client, click, advertiser_key):
    body = convert(
        client, advertiser_key, transaction_id=click.transaction_id, amount="9.99", currency="eur"
    ).json()
    conversion = Conversion.objects.get(pk=body["conversion_id"])
    assert (conversion.revenue, conversion.currency) == (Decimal("9.99"), "EUR")


@pytest.mark.parametrize("by", ["name", "id"])
def test_event_by_name_or_id_fires_event_postbacks(
    client, click, purchase, advertiser_key, make_config, httpserver, by
):
    make_config(
        httpserver.url_for("/ev") + "?e={event_id}&n={event_name}&p={payout}",
        postback_type="event",
        name="Events",
    )
    make_config(httpserver.url_for("/base"), name="Base only")
    httpserver.expect_request("/ev").respond_with_data("ok")
    event = purchase.name if by == "name" else str(purchase.pk)

    body = convert(client, advertiser_key, transaction_id=click.transaction_id, event=event).json()

    assert body["postbacks_queued"] == 1
    request, _ = httpserver.log[0]
    assert request.args.to_dict() == {"e": str(purchase.pk), "n": "purchase", "p": "4"}
    log = PostbackLog.objects.get()
    assert (log.postback_type, log.event_id) == ("event", purchase.pk)


def test_event_config_for_another_event_does_not_fire(
    client, click, offer, purchase, advertiser_key, make_config
):
    other = offer.events.create(name="level10")
    make_config("http://127.0.0.1:9/x", postback_type="event", event=other)
    body = convert(client, advertiser_key, transaction_id=click.transaction_id, event="purchase")
    assert body.json()["postbacks_queued"] == 0


def test_config_for_another_offer_does_not_fire(
    client, click, advertiser, advertiser_key, make_config
):
    other_offer = advertiser.offers.create(name="Other", destination_url="https://x.example/")
    make_config("http://127.0.0.1:9/x", offer=other_offer)
    body = convert(client, advertiser_key, transaction_id=click.transaction_id).json()
    assert body["postbacks_queued"] == 0


def test_duplicate_counts_once_and_refires_only_what_failed(
    client, click, advertiser_key, make_config, httpserver
):
    make_config(httpserver.url_for("/ok"), name="Works")
    make_config(httpserver.url_for("/broken"), name="Broken", max_attempts=1)
    httpserver.expect_request("/ok").respond_with_data("fine")
    httpserver.expect_request("/broken").respond_with_data("missing param", status=400)

    first = convert(client, advertiser_key, transaction_id=click.transaction_id).json()
    second = convert(client, advertiser_key, transaction_id=click.transaction_id).json()

    assert second["duplicate"] is True and second["conversion_id"] == first["conversion_id"]
    assert second["postbacks_queued"] == 1
    assert Conversion.objects.count() == 1
    paths = [request.path for request, _ in httpserver.log]
    assert sorted(paths) == ["/broken", "/broken", "/ok"]
    refired = PostbackLog.objects.filter(postback_name="Broken").order_by("id")
    assert [(log.attempt, log.trigger) for log in refired] == [(1, "automatic"), (2, "refire")]


def test_different_order_ids_are_separate_conversions(client, click, advertiser_key):
    a = convert(client, advertiser_key, transaction_id=click.transaction_id, order_id="A").json()
    b = convert(client, advertiser_key, transaction_id=click.transaction_id, order_id="B").json()
    assert a["conversion_id"] != b["conversion_id"] and not b["duplicate"]


def test_pending_conversion_fires_only_configs_that_fire_on_pending(
    client, click, advertiser_key, make_config, httpserver
):
    make_config(httpserver.url_for("/early") + "?s={status}", fire_on_pending=True)
    make_config(httpserver.url_for("/late"))
    httpserver.expect_request("/early").respond_with_data("ok")

    body = convert(client, advertiser_key, transaction_id=click.transaction_id, status="pending")

    assert body.json()["postbacks_queued"] == 1
    assert [request.full_path for request, _ in httpserver.log] == ["/early?s=pending"]


def test_post_form_and_json_bodies(client, click, advertiser_key):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {advertiser_key}"}
    form = client.post(
        "/conversion/", {"transaction_id": click.transaction_id, "order_id": "1"}, **auth
    )
    as_json = client.post(
        "/conversion/",
        {"transaction_id": click.transaction_id, "order_id": "2", "amount": 3},
        content_type="application/json",
        **auth,
    )
    assert form.status_code == 200 and as_json.status_code == 200
    assert Conversion.objects.get(order_id="2").revenue == Decimal("3")


def test_postback_post_json_body_is_json_escaped(
    client, click, advertiser_key, make_config, httpserver
):
    click.sub1 = 'quote " back\\slash ünï'
    click.save()
    make_config(
        httpserver.url_for("/json"),
        method="POST",
        content_type="json",
        body='{"tid": "{transaction_id}", "s1": "{sub1}", "s2": "{sub2}"}',
    )
    httpserver.expect_request("/json", method="POST").respond_with_data("ok")
    convert(client, advertiser_key, transaction_id=click.transaction_id)
    request, _ = httpserver.log[0]
    assert request.headers["Content-Type"] == "application/json"
    assert request.get_json() == {
        "tid": click.transaction_id,
        "s1": 'quote " back\\slash ünï',
        "s2": "",
    }


def test_postback_post_form_body_is_form_encoded(
    client, click, advertiser_key, make_config, httpserver
):
    click.sub1 = "a b&c=d"
    click.save()
    make_config(httpserver.url_for("/form"), method="POST", body="s1={sub1}&tid={click_id}")
    httpserver.expect_request("/form", method="POST").respond_with_data("ok")
    convert(client, advertiser_key, transaction_id=click.transaction_id)
    request, _ = httpserver.log[0]
    assert request.form.to_dict() == {"s1": "a b&c=d", "tid": click.transaction_id}


def test_click_fires_click_postbacks(client, offer, publisher, make_config, httpserver):
    make_config(
        httpserver.url_for("/click") + "?t={transaction_id}&s={sub1}", postback_type="click"
    )
    httpserver.expect_request("/click").respond_with_data("ok")
    client.get(f"/click/{offer.pk}/{publisher.pk}/", {"sub1": "x"})
    request, _ = httpserver.log[0]
    assert request.args["s"] == "x"
    delivery = Delivery.objects.get()
    assert (delivery.postback_type, delivery.state) == ("click", "succeeded")
    log = PostbackLog.objects.get()
    assert (log.postback_type, log.event_id, log.transaction_id) == (
        "click",
        None,
        delivery.click.transaction_id,
    )
