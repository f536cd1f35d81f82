"""One 400 with every problem; the identifier rule; unknown fields; bodies that are not fields."""

import pytest

from offers.models import Conversion
from postbacks.models import Delivery
from tests.installs.conftest import GAID, URL, errors_of, minimal, send

IDENTIFIERS = ["ios_ifa", "ios_ifv", "google_aid", "windows_aid", "os_id", "user_id"]
IDENTIFIER_MESSAGE = (
    "Give at least one device or user identifier: ios_ifa, ios_ifv, google_aid, windows_aid, "
    "os_id, user_id (an all-zero UUID identifies no device)."
)


def test_every_problem_is_reported_in_one_answer(install, make_config):
    make_config("http://127.0.0.1:9/never")
    response = install(
        publisher_name=None,
        google_aid=None,
        country_code="ZZ",
        cost="-1",
        event_name="purchase",
        ios_ifv="nope",
        install_timestamp="2026-01-01 00:05:00",
        click_timestamp="2026-01-02 00:00:00",
        campaign_id="x1",
        s_site="z" * 300,
    )
    errors = errors_of(response)
    assert errors == {
        "publisher_name": [
            "This field is required: the name of the publisher (media source) of the install."
        ],
        "country_code": ["'ZZ' is not an ISO 3166-1 alpha-2 country code, e.g. US or DE."],
        "cost": ["'-1' is not a cost: it must be a number ≥ 0 (USD)."],
        "event_name": ["'purchase' is not accepted: this endpoint records installs only."],
        "ios_ifv": [
            "'nope' is not a UUID: expected 8-4-4-4-12 hexadecimal digits, "
            "e.g. 38400000-8cf0-11bd-b23e-10b96e40000d."
        ],
        "click_timestamp": [
            "'2026-01-02 00:00:00' (2026-01-02T00:00:00Z) is after install_timestamp "
            "'2026-01-01 00:05:00' (2026-01-01T00:05:00Z): the click must come before the install."
        ],
        "campaign_id": ["'x1' is not an offer ID (a positive whole number)."],
        "s_site": [f"{'z' * 80!r}… (300 characters) is too long: at most 255 characters."],
    }
    assert Conversion.objects.count() == 0
    assert Delivery.objects.count() == 0


@pytest.mark.parametrize("name", IDENTIFIERS)
def test_any_one_identifier_is_enough(install, name):
    value = GAID if name in ("ios_ifa", "ios_ifv", "google_aid", "windows_aid") else "abc-1"
    response = install(**{"google_aid": None, name: value})
    assert response.status_code == 200, response.content


def test_no_identifier_is_refused(install):
    errors = errors_of(install(google_aid=None, s_site="x"))
    assert errors == {"identifiers": [IDENTIFIER_MESSAGE]}


def test_blank_identifiers_do_not_count(install):
    errors = errors_of(install(google_aid="", user_id="  ", os_id=""))
    assert errors == {"identifiers": [IDENTIFIER_MESSAGE]}


def test_all_zero_advertising_id_alone_is_no_identifier(install):
    errors = errors_of(install(google_aid=None, ios_ifa="00000000-0000-0000-0000-000000000000"))
    assert errors == {"identifiers": [IDENTIFIER_MESSAGE]}


def test_all_zero_advertising_id_is_kept_next_to_a_real_identifier(install):
    zeros = "00000000-0000-0000-0000-000000000000"
    assert install(google_aid=None, ios_ifa=zeros, ios_ifv=GAID).status_code == 200
    assert Conversion.objects.get().attributes["ios_ifa"] == zeros


def test_a_malformed_identifier_gets_its_own_message_not_the_rule(install):
    errors = errors_of(install(google_aid="bad"))
    assert list(errors) == ["google_aid"]


def test_unknown_fields_are_ignored_and_listed(install):
    response = install(country="US", sub1="x", key_extra="1")
    assert response.status_code == 200, response.content
    assert response.json()["ignored_fields"] == ["country", "key_extra", "sub1"]
    assert "country" not in Conversion.objects.get().attributes


def test_api_key_parameter_is_not_an_unknown_field(client, advertiser_key, default_offer):
    response = client.get(URL, minimal(api_key=advertiser_key))
    assert response.status_code == 200, response.content
    assert response.json()["ignored_fields"] == []


@pytest.mark.parametrize(
    "value, kind", [({"a": 1}, "an object"), (["x"], "an array"), (True, "a boolean")]
)
def test_json_values_that_are_not_text_or_numbers_are_refused(
    client, advertiser_key, default_offer, value, kind
):
    response = send(client, "json", advertiser_key, minimal(s_site=value, cost=value))
    errors = errors_of(response)
    assert set(errors) == {"s_site", "cost"}
    assert errors["s_site"][0].startswith(f"Expected a string or number, got {kind}: ")


def test_json_null_is_an_absent_field(client, advertiser_key, default_offer):
    response = send(client, "json", advertiser_key, minimal() | {"cost": None, "s_site": None})
    assert response.status_code == 200, response.content
    assert "cost" not in Conversion.objects.get().attributes


def test_body_that_is_not_json_is_refused(client, advertiser_key, default_offer):
    response = client.post(
        URL,
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {advertiser_key}",
    )
    assert errors_of(response) == {"body": ["The body is not valid JSON."]}


def test_json_array_body_is_refused(client, advertiser_key, default_offer):
    response = client.post(
        URL, "[1]", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {advertiser_key}"
    )
    assert errors_of(response) == {"body": ["The JSON body must be an object."]}


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_405(client, advertiser_key, method):
    response = getattr(client, method)(URL, HTTP_AUTHORIZATION=f"Bearer {advertiser_key}")
    assert response.status_code == 405


def test_query_string_and_form_body_merge_on_post(client, advertiser_key, default_offer):
    response = client.post(
        f"{URL}?api_key={advertiser_key}&cost=0.2", {"publisher_name": "X", "user_id": "u1"}
    )
    assert response.status_code == 200, response.content
    assert Conversion.objects.get().attributes["cost"] == "0.2"


@pytest.mark.parametrize("field", ["publisher_name", "id", "s_site", "user_id"])
def test_an_unpaired_surrogate_is_a_400_naming_the_field(
    client, advertiser_key, default_offer, field
):
    # Only a JSON body can carry one (json.dumps writes it as "\ud800"); no database
    # can store it.
    response = send(client, "json", advertiser_key, minimal(**{field: "a\ud800b"}))

    assert errors_of(response)[field] == [
        "Contains an unpaired surrogate (e.g. \\ud800): not valid text."
    ]
    assert not Conversion.objects.exists()
