"""Bad input to the click and conversion endpoints: a clear 4xx, nothing stored."""

import pytest

from offers.models import Click, Conversion, Publisher
from postbacks.models import Delivery
from tests.conftest import convert


def assert_nothing_stored():
    assert Conversion.objects.count() == 0
    assert Delivery.objects.count() == 0


@pytest.mark.parametrize("path", ["/click/999/{publisher}/", "/click/{offer}/999/"])
def test_click_for_unknown_offer_or_publisher_is_404(client, offer, publisher, path):
    response = client.get(path.format(offer=offer.pk, publisher=publisher.pk))
    assert response.status_code == 404
    assert Click.objects.count() == 0


def test_click_for_paused_offer_is_404(client, offer, publisher):
    offer.status = "paused"
    offer.save()
    assert client.get(f"/click/{offer.pk}/{publisher.pk}/").status_code == 404
    assert Click.objects.count() == 0


def test_click_for_paused_publisher_is_404(client, offer, publisher):
    Publisher.objects.filter(pk=publisher.pk).update(status="paused")
    assert client.get(f"/click/{offer.pk}/{publisher.pk}/").status_code == 404
    assert Click.objects.count() == 0


def test_click_rejects_post(client, offer, publisher):
    assert client.post(f"/click/{offer.pk}/{publisher.pk}/").status_code == 405


def test_conversion_without_key_is_401(client, click):
    response = client.get("/conversion/", {"transaction_id": click.transaction_id})
    assert response.status_code == 401
    assert "key" in response.json()["errors"]
    assert_nothing_stored()


def test_conversion_with_wrong_key_is_401(client, click):
    response = convert(client, "i8_not-a-key", transaction_id=click.transaction_id)
    assert response.status_code == 401
    assert_nothing_stored()


def test_conversion_with_another_advertisers_key_is_403(client, click, outsider_key):
    response = convert(client, outsider_key, transaction_id=click.transaction_id)
    assert response.status_code == 403
    assert response.json()["errors"]["key"] == ["This API key does not own the click's offer."]
    assert_nothing_stored()


def test_conversion_key_as_parameter(client, click, advertiser_key):
    response = client.get(
        "/conversion/", {"transaction_id": click.transaction_id, "key": advertiser_key}
    )
    assert response.status_code == 200


def test_conversion_without_transaction_id_is_400(client, advertiser_key):
    response = convert(client, advertiser_key)
    assert response.status_code == 400
    assert response.json() == {"errors": {"transaction_id": ["This field is required."]}}


def test_conversion_with_unknown_transaction_id_is_404(client, click, advertiser_key):
    response = convert(client, advertiser_key, transaction_id="nope")
    assert response.status_code == 404
    assert "nope" in response.json()["errors"]["transaction_id"][0]
    assert_nothing_stored()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "abc"),
        ("amount", "-1"),
        ("amount", "NaN"),
        ("amount", "1e400"),
        ("currency", "XYZ"),
        ("currency", "dollars"),
        ("status", "rejected"),
        ("event", "no-such-event"),
    ],
)
def test_conversion_with_bad_value_names_the_field(client, click, advertiser_key, field, value):
    response = convert(
        client, advertiser_key, transaction_id=click.transaction_id, **{field: value}
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field]
    assert_nothing_stored()


def test_conversion_reports_every_bad_field_at_once(client, click, advertiser_key):
    response = convert(
        client, advertiser_key, transaction_id=click.transaction_id, amount="x", currency="QQQ"
    )
    assert set(response.json()["errors"]) == {"amount", "currency"}


def test_conversion_with_malformed_json_is_400(client, advertiser_key):
    response = client.post(
        "/conversion/",
        data="{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {advertiser_key}",
    )
    assert response.status_code == 400
    assert "body" in response.json()["errors"]


def test_conversion_outside_attribution_window_is_400(client, click, advertiser_key):
    from datetime import timedelta

    from django.utils import timezone

    Click.objects.filter(pk=click.pk).update(created=timezone.now() - timedelta(days=31))
    response = convert(client, advertiser_key, transaction_id=click.transaction_id)
    assert response.status_code == 400
    assert "attribution window" in response.json()["errors"]["transaction_id"][0]
    assert_nothing_stored()


def test_conversion_rejects_put(client, advertiser_key):
    assert client.put("/conversion/").status_code == 405


def test_unknown_click_page_says_why_without_the_ops_layout(client, publisher):
    response = client.get(f"/click/999/{publisher.pk}/")
    body = response.content.decode()
    assert "Unknown or paused offer or publisher." in body
    assert "/admin/" not in body


def test_non_staff_user_gets_a_readable_403(client, django_user_model):
    django_user_model.objects.create_user("member", password="pw")
    client.login(username="member", password="pw")
    response = client.get("/logs/")
    assert response.status_code == 403
    assert "not a staff account" in response.content.decode()


def test_click_with_nul_characters_is_recorded_without_them(client, offer, publisher):
    response = client.get(
        f"/click/{offer.pk}/{publisher.pk}/", {"sub1": "a\x00b"}, HTTP_USER_AGENT="x\x00y"
    )
    assert response.status_code == 302
    click = Click.objects.get()
    assert (click.sub1, click.user_agent) == ("ab", "xy")


@pytest.mark.parametrize("field", ["transaction_id", "order_id", "event", "currency", "amount"])
def test_conversion_with_nul_character_is_400(client, click, advertiser_key, field):
    params = {"transaction_id": click.transaction_id, field: "a\x00b"}
    response = convert(client, advertiser_key, **params)
    assert response.status_code == 400
    assert response.json()["errors"] == {field: ["Contains a NUL character."]}
    assert_nothing_stored()


@pytest.mark.parametrize("path", ["/conversion/", "/api/v1/custom-postback/"])
def test_tracker_endpoints_answer_other_methods_with_json_405(client, path):
    response = client.delete(path)
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"
    assert response.json() == {"errors": {"method": ["DELETE is not allowed; use GET or POST."]}}


@pytest.mark.parametrize("path", ["/conversion/", "/api/v1/custom-postback/"])
def test_unreadable_multipart_body_is_a_json_400(client, advertiser_key, path):
    response = client.generic(
        "POST",
        path,
        b"--x\r\nnonsense",
        content_type="multipart/form-data",  # no boundary
        HTTP_AUTHORIZATION=f"Bearer {advertiser_key}",
    )
    assert response.status_code == 400
    assert "body" in response.json()["errors"]
