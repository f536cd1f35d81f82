"""Times with offsets no database can store are a 400 everywhere, never a 500."""

import pytest

from integr8.times import to_utc

BAD_TIMES = ["0500-12-16T15:39:56+20:33", "2026-01-01T00:00:00-15:30", "0001-01-01T00:00:00+01:00"]


@pytest.mark.parametrize("value", BAD_TIMES)
@pytest.mark.parametrize("path", ["/logs/", "/logs/export.csv", "/api/v1/postback-logs/"])
def test_log_time_filters_refuse_impossible_times(admin_client, path, value):
    response = admin_client.get(path, {"created_after": value})
    assert response.status_code == 400
    assert "created_after" in response.content.decode()


@pytest.mark.parametrize("value", BAD_TIMES)
def test_conversion_list_refuses_impossible_times(admin_client, value):
    response = admin_client.get("/api/v1/conversions/", {"created_before": value})
    assert response.status_code == 400
    assert "created_before" in response.json()["errors"]


def test_install_time_with_impossible_offset_is_400(client, advertiser_key, offer):
    offer.advertiser.default_offer = offer
    offer.advertiser.save()
    response = client.get(
        "/api/v1/custom-postback/",
        {"publisher_name": "x", "user_id": "u", "install_timestamp": "2026-01-01T00:00:00+20:00"},
        HTTP_AUTHORIZATION=f"Bearer {advertiser_key}",
    )
    assert response.status_code == 400
    assert "install_timestamp" in response.json()["errors"]


def test_fine_offsets_are_converted_to_utc(admin_client):
    from datetime import datetime

    assert to_utc(datetime.fromisoformat("2026-01-01T14:00:00+14:00")).hour == 0
    assert (
        admin_client.get("/logs/", {"created_after": "2026-01-01T00:00:00+05:30"}).status_code
        == 200
    )
