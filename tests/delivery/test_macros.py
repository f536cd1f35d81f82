"""Macro rendering and the refusal of unknown macros."""

import json

import pytest
from django.core.exceptions import ValidationError

from postbacks.context import conversion_context
from postbacks.macros import MACROS, find_unknown_macros, render
from postbacks.models import PostbackConfig
from tests.delivery.conftest import admin_config_form

TRICKY = "a b&c=d#e/ü?"


def test_url_encoding_escapes_every_reserved_character():
    assert render("x={sub1}", {"sub1": TRICKY}) == "x=a%20b%26c%3Dd%23e%2F%C3%BC%3F"


def test_form_encoding_uses_plus_for_spaces():
    assert render("x={sub1}", {"sub1": TRICKY}, "form") == "x=a+b%26c%3Dd%23e%2F%C3%BC%3F"


def test_json_encoding_escapes_quotes_and_control_characters():
    rendered = render('{"x": "{sub1}"}', {"sub1": 'say "hi"\n\\ ü'}, "json")
    assert json.loads(rendered) == {"x": 'say "hi"\n\\ ü'}


def test_missing_and_none_values_render_empty():
    assert render("a={sub1}&b={sub2}", {"sub1": None}) == "a=&b="


def test_aliases():
    context = {"transaction_id": "T1", "offer_id": 7}
    assert render("{click_id}/{campaign_id}", context) == "T1/7"


def test_unknown_placeholders_are_left_alone_when_rendering():
    assert render("{nope}", {}) == "{nope}"


def test_unknown_macro_is_found_and_named():
    assert find_unknown_macros("{sub1}{clickid}{foo}") == ["clickid", "foo"]


def test_saving_a_config_with_an_unknown_macro_is_refused(publisher):
    config = PostbackConfig(name="x", publisher=publisher, url="https://p.example/?c={clickid}")
    with pytest.raises(ValidationError) as error:
        config.full_clean()
    assert "{clickid}" in str(error.value.message_dict["url"])


def test_unknown_macro_in_body_is_refused(publisher):
    config = PostbackConfig(
        name="x", publisher=publisher, url="https://p.example/", method="POST", body="{oops}"
    )
    with pytest.raises(ValidationError) as error:
        config.full_clean()
    assert "{oops}" in str(error.value.message_dict["body"])


def test_unknown_macro_in_offer_destination_is_refused(offer):
    offer.destination_url = "https://x.example/?t={tid}"
    with pytest.raises(ValidationError) as error:
        offer.full_clean()
    assert "{tid}" in str(error.value.message_dict["destination_url"])


def test_admin_refuses_unknown_macro(admin_client, publisher):
    response = admin_client.post(
        "/admin/postbacks/postbackconfig/add/",
        admin_config_form(publisher, name="bad", url="https://p.example/?c={clickid}"),
    )
    assert response.status_code == 200
    assert "Unknown macro {clickid}" in response.content.decode()
    assert not PostbackConfig.objects.exists()


def test_every_listed_macro_has_a_value_for_a_conversion(click, purchase):
    from offers.models import Conversion

    conversion = Conversion.objects.create(
        transaction_id=click.transaction_id,
        click=click,
        offer=click.offer,
        publisher=click.publisher,
        event=purchase,
        dedupe_key="k",
        rejection_reason="fraud",
    )
    context = conversion_context(conversion)
    install_only = {"s_publisher", "s_campaign", "s_site", "s_adgroup", "s_ad", "cost"}
    install_only |= {"device_model", "device_brand", "timestamp", "click_id", "campaign_id"}
    assert MACROS - install_only <= set(context)
    assert context["device_id"] == "gaid-1"
    assert context["click_time"].endswith("Z") and context["conversion_time"].endswith("Z")
    assert context["event_name"] == "purchase" and context["rejection_reason"] == "fraud"
