"""install_timestamp and click_timestamp: three formats, defaults, order, the future."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from offers.models import Conversion
from tests.installs.conftest import errors_of, minimal, send

INSTALLED = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-01 00:05:00",  # YYYY-MM-DD HH:MM:SS, read as UTC
        "2026-01-01T00:05:00Z",
        "2026-01-01T00:05:00+00:00",
        "2026-01-01T02:05:00+02:00",
        "2025-12-31T19:05:00-05:00",
        "2026-01-01T00:05:00.000Z",
        "2026-01-01 01:05:00+01:00",
        "1767225900",  # Unix seconds
    ],
)
def test_install_timestamp_formats(install, value):
    response = install(install_timestamp=value)
    assert response.status_code == 200, response.content
    conversion = Conversion.objects.get()
    assert conversion.created == INSTALLED
    assert conversion.attributes["install_time"] == "2026-01-01T00:05:00Z"
    # Without click_timestamp the click time is the install time.
    assert conversion.attributes["click_time"] == "2026-01-01T00:05:00Z"


@pytest.mark.parametrize(
    "value",
    ["2026-01-01 00:00:00", "2026-01-01T00:00:00Z", "2025-12-31T19:00:00-05:00", "1767225600"],
)
def test_click_timestamp_formats(install, value):
    response = install(install_timestamp="2026-01-01 00:05:00", click_timestamp=value)
    assert response.status_code == 200, response.content
    assert Conversion.objects.get().attributes["click_time"] == "2026-01-01T00:00:00Z"


def test_unix_seconds_with_a_fraction(install):
    assert install(install_timestamp="1767225900.75").status_code == 200
    assert Conversion.objects.get().created == INSTALLED + timedelta(microseconds=750000)


def test_install_time_defaults_to_now(install):
    before = timezone.now()
    assert install().status_code == 200
    conversion = Conversion.objects.get()
    assert before <= conversion.created <= timezone.now()
    assert conversion.attributes["install_time"] == conversion.attributes["click_time"]


@pytest.mark.parametrize("name", ["install_timestamp", "click_timestamp"])
@pytest.mark.parametrize(
    "value",
    ["yesterday", "2026-13-01 00:00:00", "2026-01-01 25:00:00", "01/02/2026", "-5", "1.2.3"],
)
def test_unreadable_time_is_refused(install, name, value):
    errors = errors_of(install(**{name: value}))
    assert errors == {
        name: [
            f"{value!r} is not a time: use YYYY-MM-DD HH:MM:SS (UTC), ISO 8601 with an offset "
            "(e.g. 2026-01-01T00:05:00Z) or Unix seconds."
        ]
    }


@pytest.mark.parametrize("value", ["2026-01-01T00:05:00", "2026-01-01", "2026-01-01 00:05"])
def test_iso_time_without_offset_is_refused_as_ambiguous(install, value):
    errors = errors_of(install(install_timestamp=value))
    assert errors == {
        "install_timestamp": [
            f"{value!r} has no UTC offset: add Z or ±HH:MM, "
            "or send YYYY-MM-DD HH:MM:SS, which is read as UTC."
        ]
    }


def test_milliseconds_are_refused_with_a_hint(install):
    errors = errors_of(install(install_timestamp="1767225900000"))
    assert errors == {
        "install_timestamp": ["'1767225900000' looks like milliseconds: send Unix seconds."]
    }


@pytest.mark.parametrize("value", ["1999-12-31 23:59:59", "0", "0001-01-01T00:00:00+01:00"])
def test_implausibly_old_time_is_refused(install, value):
    errors = errors_of(install(install_timestamp=value))
    assert list(errors) == ["install_timestamp"]
    assert repr(value) in errors["install_timestamp"][0]


@pytest.mark.parametrize("name", ["install_timestamp", "click_timestamp"])
def test_time_more_than_an_hour_ahead_is_refused(install, name):
    ahead = timezone.now() + timedelta(hours=2)
    value = ahead.strftime("%Y-%m-%d %H:%M:%S")
    errors = errors_of(install(**{name: value}))
    assert list(errors) == [name]
    assert errors[name][0].startswith(f"{value!r} ({ahead:%Y-%m-%dT%H:%M:%SZ}) is in the future")
    assert errors[name][0].endswith("at most 1 hour ahead is accepted.")


def test_time_slightly_ahead_is_accepted_as_clock_skew(install):
    ahead = timezone.now() + timedelta(minutes=10)
    response = install(install_timestamp=str(int(ahead.timestamp())))
    assert response.status_code == 200, response.content


def test_click_after_install_is_refused(install):
    errors = errors_of(
        install(install_timestamp="2026-01-01 00:05:00", click_timestamp="1767225901")
    )
    assert errors == {
        "click_timestamp": [
            "'1767225901' (2026-01-01T00:05:01Z) is after install_timestamp "
            "'2026-01-01 00:05:00' (2026-01-01T00:05:00Z): "
            "the click must come before the install."
        ]
    }


def test_click_after_now_is_refused_when_install_time_is_now(install):
    ahead = timezone.now() + timedelta(minutes=30)
    errors = errors_of(install(click_timestamp=ahead.isoformat()))
    assert list(errors) == ["click_timestamp"]
    assert "install_timestamp was not sent" in errors["click_timestamp"][0]


def test_click_at_install_time_is_accepted(install):
    response = install(install_timestamp="1767225900", click_timestamp="2026-01-01T00:05:00Z")
    assert response.status_code == 200, response.content


def test_json_numbers_are_unix_seconds(client, advertiser_key, default_offer):
    response = send(client, "json", advertiser_key, minimal(install_timestamp=1767225900, cost=0.5))
    assert response.status_code == 200, response.content
    conversion = Conversion.objects.get()
    assert conversion.created == INSTALLED
    assert conversion.attributes["cost"] == "0.5"
