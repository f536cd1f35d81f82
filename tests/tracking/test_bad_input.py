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


def test_staff_without_a_permission_are_told_so_not_that_they_are_not_staff(
    client, django_user_model
):
    staff = django_user_model.objects.create_user("ops2", password="pw", is_staff=True)
    client.force_login(staff)
    response = client.get("/admin/accounts/membership/add/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "without the permission" in page and "not a staff account" not in page


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


# Values the columns cannot hold: a 400 naming the field, never a 500 or a silent cut.


def post_form(client, key, **params):
    """A form body: values too long for a URL (which is refused with a 414) fit in one."""
    return client.post("/conversion/", params, HTTP_AUTHORIZATION=f"Bearer {key}")


def post_json(client, key, body: str):
    return client.post(
        "/conversion/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )


@pytest.mark.parametrize("order_id", ["A" * 255, "é" * 255, "注文" * 127])
def test_order_id_as_long_as_the_column_is_stored_whole(client, click, advertiser_key, order_id):
    response = post_form(
        client, advertiser_key, transaction_id=click.transaction_id, order_id=order_id
    )
    assert response.status_code == 200, response.content
    assert Conversion.objects.get().order_id == order_id


@pytest.mark.parametrize("order_id", ["A" * 256, "é" * 256, "A" * 100_000])
def test_order_id_longer_than_the_column_is_400(client, click, advertiser_key, order_id):
    response = post_form(
        client, advertiser_key, transaction_id=click.transaction_id, order_id=order_id
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "order_id": [f"At most 255 characters ({len(order_id)} sent)."]
    }
    assert_nothing_stored()


@pytest.mark.parametrize("transaction_id", ["x" * 65, "x" * 100_000])
def test_transaction_id_longer_than_the_column_is_400_not_404(
    client, click, advertiser_key, transaction_id
):
    response = post_form(client, advertiser_key, transaction_id=transaction_id)
    assert response.status_code == 400
    (message,) = response.json()["errors"]["transaction_id"]
    assert message.endswith("is not a transaction ID: at most 64 characters.")
    assert len(message) < 200  # the value is quoted cut short
    assert_nothing_stored()


@pytest.mark.parametrize("currency", ["USDX", "US", "ÜSD", "usd\u0301", "E" * 10_000])
def test_currency_that_is_not_three_letters_of_iso_4217_is_400(
    client, click, advertiser_key, currency
):
    response = post_form(
        client, advertiser_key, transaction_id=click.transaction_id, currency=currency
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["currency"]
    assert_nothing_stored()


@pytest.mark.parametrize("event", ["9" * 19, "9" * 30, "²", "-1", "1" * 10_000])
def test_event_that_is_no_event_id_is_400(client, click, purchase, advertiser_key, event):
    response = post_form(client, advertiser_key, transaction_id=click.transaction_id, event=event)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["event"]
    assert_nothing_stored()


@pytest.mark.parametrize("field", ["order_id", "currency", "event", "status", "transaction_id"])
def test_unpaired_surrogate_in_a_json_body_is_400(client, click, advertiser_key, field):
    params = {"transaction_id": click.transaction_id, field: "a\\ud800b"}
    body = "{" + ", ".join(f'"{name}": "{value}"' for name, value in params.items()) + "}"
    response = post_json(client, advertiser_key, body)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert_nothing_stored()


def test_a_proper_surrogate_pair_is_one_character_and_is_kept(client, click, advertiser_key):
    body = f'{{"transaction_id": "{click.transaction_id}", "order_id": "\\ud83d\\ude00"}}'
    assert post_json(client, advertiser_key, body).status_code == 200
    assert Conversion.objects.get().order_id == "\U0001f600"


def test_missing_transaction_id_is_reported_with_the_other_bad_fields(client, advertiser_key):
    response = convert(client, advertiser_key, amount="99999999.99999", order_id="A" * 256)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"transaction_id", "amount", "order_id"}
