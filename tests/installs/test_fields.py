"""Each field's good and bad forms, sent as GET, POST form and POST JSON alike."""

import pytest

from offers.models import Conversion
from tests.installs.conftest import GAID, IDFA, errors_of

TEXT_FIELDS = [
    "campaign_name",
    "s_publisher_name",
    "s_publisher",
    "s_campaign_name",
    "s_campaign",
    "s_site_name",
    "s_site",
    "s_adgroup_name",
    "s_adgroup",
    "s_ad_name",
    "s_ad",
    "s_keyword_name",
    "s_placement_name",
    "device_model",
    "device_brand",
    "os_id",
    "user_id",
]
UUID_FIELDS = ["ios_ifa", "ios_ifv", "google_aid", "windows_aid"]


def stored() -> Conversion:
    return Conversion.objects.get()


def test_minimal_install_is_stored(install):
    response = install()
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["duplicate"] is False
    assert body["conversion_id"] == stored().pk
    assert body["transaction_id"] == stored().transaction_id


@pytest.mark.parametrize("name", TEXT_FIELDS)
def test_text_field_is_kept_trimmed(install, name):
    response = install(**{name: "  Spring Sale — ünï & co  "})
    assert response.status_code == 200, response.content
    assert stored().attributes[name] == "Spring Sale — ünï & co"


@pytest.mark.parametrize("name", [*TEXT_FIELDS, "publisher_name", "id"])
def test_text_field_longer_than_255_is_refused(install, name):
    errors = errors_of(install(**{name: "x" * 256}))
    assert list(errors) == [name]
    assert errors[name] == [f"{'x' * 80!r}… (256 characters) is too long: at most 255 characters."]
    assert Conversion.objects.count() == 0


@pytest.mark.parametrize("name", [*TEXT_FIELDS, "publisher_name", "id"])
def test_text_field_of_exactly_255_is_accepted(install, name):
    response = install(**{name: "y" * 255})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("value", ["a\x00b", "line\nbreak"])
def test_control_characters_are_refused(install, value):
    errors = errors_of(install(s_site=value))
    assert errors == {
        "s_site": [f"{value!r} contains a control character (such as a NUL or newline)."]
    }


@pytest.mark.parametrize("name", UUID_FIELDS)
@pytest.mark.parametrize(
    "value", [GAID, IDFA, GAID.upper(), "ea7583cd-A667-48bc-B806-42ecb2b48606"]
)
def test_uuid_in_any_case_is_accepted_as_sent(install, name, value):
    response = install(**{"google_aid": None, name: value})
    assert response.status_code == 200, response.content
    assert stored().attributes[name] == value


@pytest.mark.parametrize("name", UUID_FIELDS)
@pytest.mark.parametrize(
    "value",
    [
        "not-a-uuid",
        "38400000-8cf0-11bd-b23e-10b96e40000",  # one digit short
        "38400000-8cf0-11bd-b23e-10b96e40000dd",  # one digit long
        "384000008cf011bdb23e10b96e40000d",  # no hyphens: not the text form
        "{38400000-8cf0-11bd-b23e-10b96e40000d}",
        "urn:uuid:38400000-8cf0-11bd-b23e-10b96e40000d",
        "g8400000-8cf0-11bd-b23e-10b96e40000d",
    ],
)
def test_malformed_uuid_is_refused_with_the_value(install, name, value):
    errors = errors_of(install(**{name: value}))
    assert list(errors) == [name]
    assert errors[name] == [
        f"{value!r} is not a UUID: expected 8-4-4-4-12 hexadecimal digits, "
        "e.g. 38400000-8cf0-11bd-b23e-10b96e40000d."
    ]


@pytest.mark.parametrize("value, kept", [("US", "US"), ("de", "DE"), ("Gb", "GB")])
def test_country_code_is_a_real_iso_code(install, value, kept):
    response = install(country_code=value)
    assert response.status_code == 200, response.content
    assert stored().attributes["country_code"] == kept


@pytest.mark.parametrize("value", ["ZZ", "UK", "XK", "XX", "USA", "U", "1A", "ÜS", "U S"])
def test_country_code_that_is_not_assigned_is_refused(install, value):
    errors = errors_of(install(country_code=value))
    assert errors == {
        "country_code": [f"{value!r} is not an ISO 3166-1 alpha-2 country code, e.g. US or DE."]
    }


@pytest.mark.parametrize(
    "value, kept",
    [
        ("0", "0"),
        ("-0", "0"),
        ("0.35", "0.35"),
        ("1.50", "1.5"),
        (".5", "0.5"),
        ("12", "12"),
        ("1e2", "100"),
        ("0.0000000001", "0.0000000001"),
    ],
)
def test_cost_is_a_decimal_kept_as_text(install, value, kept):
    response = install(cost=value)
    assert response.status_code == 200, response.content
    assert stored().attributes["cost"] == kept


@pytest.mark.parametrize(
    "value, message",
    [
        ("-0.01", "is not a cost: it must be a number ≥ 0 (USD)."),
        ("NaN", "is not a number: send a decimal like 0.35 (USD)."),
        ("Infinity", "is not a number: send a decimal like 0.35 (USD)."),
        ("1,50", "is not a number: send a decimal like 0.35 (USD)."),
        ("$1", "is not a number: send a decimal like 0.35 (USD)."),
        ("1_000", "is not a number: send a decimal like 0.35 (USD)."),
        ("٣", "is not a number: send a decimal like 0.35 (USD)."),
        ("1e99999", "is not a number: send a decimal like 0.35 (USD)."),
        ("100000000", "is too large for a cost: less than 100000000 USD."),
        ("1e9", "is too large for a cost: less than 100000000 USD."),
        ("0.12345678901", "has more than 10 decimal places."),
        ("1e-999", "has more than 10 decimal places."),
    ],
)
def test_bad_cost_is_refused(install, value, message):
    errors = errors_of(install(cost=value))
    assert errors == {"cost": [f"{value!r} {message}"]}


@pytest.mark.parametrize("value", ["install", "Install", "INSTALL"])
def test_event_name_install_is_accepted(install, value):
    response = install(event_name=value)
    assert response.status_code == 200, response.content
    assert stored().attributes["event_name"] == "install"


@pytest.mark.parametrize("value", ["purchase", "installs", "open"])
def test_other_event_names_are_refused(install, value):
    errors = errors_of(install(event_name=value))
    assert errors == {
        "event_name": [f"{value!r} is not accepted: this endpoint records installs only."]
    }


def test_publisher_name_is_required(install):
    errors = errors_of(install(publisher_name=None))
    assert errors == {
        "publisher_name": [
            "This field is required: the name of the publisher (media source) of the install."
        ]
    }


def test_blank_publisher_name_counts_as_missing(install):
    assert "publisher_name" in errors_of(install(publisher_name="   "))


def test_install_id_is_kept(install):
    assert install(id="inst-42").status_code == 200
    assert stored().install_id == "inst-42"
    assert stored().dedupe_key.endswith("|inst-42")


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5", "٣"])
def test_campaign_id_must_be_a_positive_whole_number(install, value):
    errors = errors_of(install(campaign_id=value))
    assert errors == {"campaign_id": [f"{value!r} is not an offer ID (a positive whole number)."]}


def test_campaign_id_beyond_any_offer_id_is_refused_not_a_500(install):
    errors = errors_of(install(campaign_id="9" * 30))
    assert list(errors) == ["campaign_id"]
