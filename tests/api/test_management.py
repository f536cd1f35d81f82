"""Staff CRUD for advertisers, offers, offer events, publishers and postback configs."""

import pytest

from offers.models import Advertiser, Conversion, Offer, OfferEvent, Publisher
from postbacks.models import PostbackConfig
from tests.api.conftest import errors

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"  # base64 of 24 bytes


def test_advertiser_crud(api, staff_key):
    created = api.post(
        "advertisers/", staff_key, {"name": "New Co", "ip_allowlist": ["10.0.0.0/8"]}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body == {
        "id": body["id"],
        "name": "New Co",
        "ip_allowlist": ["10.0.0.0/8"],
        "default_offer": None,
    }
    path = f"advertisers/{body['id']}/"
    assert api.get(path, staff_key).json() == body
    assert api.patch(path, staff_key, {"name": "Renamed"}).json()["name"] == "Renamed"
    assert api.get("advertisers/", staff_key).json()["results"][0]["name"] == "Renamed"
    assert api.delete(path, staff_key).status_code == 204
    assert not Advertiser.objects.filter(pk=body["id"]).exists()


def test_advertiser_rejects_bad_cidrs_and_foreign_default_offer(api, staff_key, advertiser, offer):
    other = Advertiser.objects.create(name="Other")
    response = api.patch(
        f"advertisers/{other.pk}/",
        staff_key,
        {"ip_allowlist": ["not-a-network"], "default_offer": offer.pk},
    )
    assert response.status_code == 400
    assert errors(response) == {
        "ip_allowlist": ["'not-a-network' is not an IP network (CIDR)."],
        "default_offer": ["Choose one of this advertiser's own offers."],
    }
    ok = api.patch(f"advertisers/{advertiser.pk}/", staff_key, {"default_offer": offer.pk})
    assert ok.json()["default_offer"] == offer.pk


def test_deleting_an_advertiser_with_offers_is_409(api, staff_key, advertiser, offer):
    response = api.delete(f"advertisers/{advertiser.pk}/", staff_key)
    assert response.status_code == 409
    assert errors(response) == {
        "non_field_errors": ["Cannot delete: it is still referenced by offers."]
    }
    assert Advertiser.objects.filter(pk=advertiser.pk).exists()


def test_offer_crud_and_validation(api, staff_key, advertiser):
    body = {
        "advertiser": advertiser.pk,
        "name": "Game",
        "destination_url": "https://store.example/?c={click_id}",
        "revenue": "3.5",
        "payout": "2",
        "currency": "eur",
    }
    created = api.post("offers/", staff_key, body)
    assert created.status_code == 201, created.content
    offer = created.json()
    assert offer == {
        "id": offer["id"],
        "advertiser": advertiser.pk,
        "name": "Game",
        "status": "active",
        "destination_url": "https://store.example/?c={click_id}",
        "revenue": "3.5000",
        "payout": "2.0000",
        "currency": "EUR",
        "attribution_window_days": 30,
    }
    bad = api.post(
        "offers/",
        staff_key,
        {**body, "destination_url": "https://x/?a={nope}", "currency": "XYZ", "status": "on"},
    )
    assert bad.status_code == 400
    found = errors(bad)
    assert set(found) == {"destination_url", "currency", "status"}
    assert found["destination_url"][0].startswith("Unknown macro {nope}.")
    assert found["currency"] == ["'XYZ' is not an ISO 4217 currency code."]


def test_deleting_an_offer_with_conversions_is_409(api, staff_key, click):
    Conversion.objects.create(
        transaction_id=click.transaction_id,
        click=click,
        offer=click.offer,
        publisher=click.publisher,
        dedupe_key="k",
    )
    response = api.delete(f"offers/{click.offer_id}/", staff_key)
    assert response.status_code == 409
    assert "Cannot delete" in errors(response)["non_field_errors"][0]
    assert Offer.objects.filter(pk=click.offer_id).exists()


def test_offer_event_crud_and_unique_name(api, staff_key, offer, purchase):
    created = api.post(
        "offer-events/", staff_key, {"offer": offer.pk, "name": "level_10", "payout": "1"}
    )
    assert created.status_code == 201, created.content
    assert created.json() == {
        "id": created.json()["id"],
        "offer": offer.pk,
        "name": "level_10",
        "revenue": "0.0000",
        "payout": "1.0000",
    }
    duplicate = api.post("offer-events/", staff_key, {"offer": offer.pk, "name": "purchase"})
    assert duplicate.status_code == 400
    assert list(errors(duplicate)) == ["non_field_errors"]
    assert api.delete(f"offer-events/{created.json()['id']}/", staff_key).status_code == 204
    assert OfferEvent.objects.count() == 1


def test_publisher_crud(api, staff_key):
    created = api.post("publishers/", staff_key, {"name": "Net", "status": "paused"})
    assert created.json() == {"id": created.json()["id"], "name": "Net", "status": "paused"}
    path = f"publishers/{created.json()['id']}/"
    replaced = api.put(path, staff_key, {"name": "Net 2", "status": "active"})
    assert replaced.json()["status"] == "active"
    missing_name = api.put(path, staff_key, {"status": "active"})
    assert errors(missing_name) == {"name": ["This field is required."]}
    assert api.delete(path, staff_key).status_code == 204
    assert api.get(path, staff_key).status_code == 404


def test_deleting_a_publisher_with_clicks_is_409(api, staff_key, click):
    response = api.delete(f"publishers/{click.publisher_id}/", staff_key)
    assert response.status_code == 409
    assert Publisher.objects.filter(pk=click.publisher_id).exists()


def test_postback_config_crud(api, staff_key, publisher, offer, purchase):
    body = {
        "name": "Buys",
        "publisher": publisher.pk,
        "offer": offer.pk,
        "postback_type": "event",
        "event": purchase.pk,
        "url": "https://pb.example/e?t={transaction_id}&e={event_name}",
        "method": "POST",
        "body": '{"t": "{transaction_id}"}',
        "content_type": "json",
        "secret": SECRET,
        "max_attempts": 3,
    }
    created = api.post("postback-configs/", staff_key, body)
    assert created.status_code == 201, created.content
    config = created.json()
    assert list(config) == [
        "id",
        "name",
        "publisher",
        "offer",
        "postback_type",
        "event",
        "url",
        "method",
        "body",
        "content_type",
        "enabled",
        "timeout_seconds",
        "max_attempts",
        "secret",
        "fire_on_pending",
        "delay_seconds",
        "disable_after_failures",
        "accept_window_hours",
        "success_rule",
        "headers",
        "event_names",
        "secret_parameters",
        "on_denied_consent",
        "version",
    ]
    assert (config["secret"], config["postback_type"], config["event"]) == (
        SECRET,
        "event",
        purchase.pk,
    )
    path = f"postback-configs/{config['id']}/"
    assert api.patch(path, staff_key, {"enabled": False}).json()["enabled"] is False
    assert api.delete(path, staff_key).status_code == 204
    assert not PostbackConfig.objects.exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"url": "https://pb.example/?x={bogus}"}, "url"),
        ({"url": "ftp://pb.example/"}, "url"),
        ({"url": "/relative"}, "url"),
        ({"body": "{oops}"}, "body"),
        ({"secret": "plain-text"}, "secret"),
        ({"secret": "whsec_!!!"}, "secret"),
        ({"postback_type": "purchase"}, "postback_type"),
        ({"method": "PUT"}, "method"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"max_attempts": 50}, "max_attempts"),
        ({"event": "EVENT", "postback_type": "conversion"}, "event"),
        ({"publisher": 999999}, "publisher"),
    ],
)
def test_postback_config_validation(api, staff_key, publisher, purchase, changes, field):
    body = {"name": "C", "publisher": publisher.pk, "url": "https://pb.example/?t={click_id}"}
    body.update({k: purchase.pk if v == "EVENT" else v for k, v in changes.items()})
    response = api.post("postback-configs/", staff_key, body)
    assert response.status_code == 400
    assert list(errors(response)) == [field]


def test_event_of_another_offer_is_refused(api, staff_key, publisher, purchase, foreign_offer):
    response = api.post(
        "postback-configs/",
        staff_key,
        {
            "name": "C",
            "publisher": publisher.pk,
            "offer": foreign_offer.pk,
            "postback_type": "event",
            "event": purchase.pk,
            "url": "https://pb.example/",
        },
    )
    assert errors(response) == {"event": ["The event belongs to another offer."]}


def test_unknown_id_is_404(api, staff_key):
    response = api.patch("offers/424242/", staff_key, {"name": "x"})
    assert response.status_code == 404
    errors(response)


def test_advertiser_key_cannot_create(api, advertiser_key):
    response = api.post("publishers/", advertiser_key, {"name": "Sneaky"})
    assert response.status_code == 403
    assert not Publisher.objects.exists()


def test_staff_session_manages_with_csrf(client, ops_user):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(ops_user)
    response = csrf_client.post(
        "/api/v1/publishers/", {"name": "X"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert list(errors(response)) == ["permission"]
    assert "CSRF" in errors(response)["permission"][0]


@pytest.mark.django_db(transaction=True)
def test_send_test_returns_the_attempt(api, staff_key, make_config, httpserver):
    httpserver.expect_request("/test").respond_with_data("got it", status=202)
    config = make_config(httpserver.url_for("/test") + "?t={transaction_id}&st={status}")

    response = api.post(f"postback-configs/{config.pk}/test/", staff_key)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {
        "log_id",
        "status",
        "url",
        "method",
        "response_code",
        "error",
        "server_response",
        "duration_ms",
    }
    assert (body["status"], body["response_code"], body["server_response"]) == (
        "success",
        202,
        "got it",
    )
    assert body["url"].startswith(httpserver.url_for("/test") + "?t=")
    assert body["method"] == "GET" and body["error"] == ""
    assert len(httpserver.log) == 1
    from postbacks.models import PostbackLog

    assert PostbackLog.objects.get(pk=body["log_id"]).trigger == "test"


@pytest.mark.django_db(transaction=True)
def test_send_test_reports_a_failure_in_words(api, staff_key, make_config, httpserver):
    httpserver.expect_request("/down").respond_with_data("no", status=503)
    config = make_config(httpserver.url_for("/down"))
    body = api.post(f"postback-configs/{config.pk}/test/", staff_key).json()
    assert (body["status"], body["response_code"], body["error"]) == ("failed", 503, "HTTP 503")


def test_send_test_of_unknown_config_is_404(api, staff_key):
    assert api.post("postback-configs/424242/test/", staff_key).status_code == 404


def test_send_test_needs_staff(api, advertiser_key, make_config):
    config = make_config("http://127.0.0.1:9/")
    assert api.post(f"postback-configs/{config.pk}/test/", advertiser_key).status_code == 403
