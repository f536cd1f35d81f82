"""GET /api/v1/postback-logs/: the /logs/ query string, JSON pages, CSV, scoping."""

import csv
import io

import pytest

from postbacks.models import PostbackLog
from tests.api.conftest import errors

pytestmark = pytest.mark.django_db

FIELDS = [
    "id",
    "created",
    "status",
    "postback_name",
    "postback_type",
    "offer_id",
    "publisher_id",
    "event_id",
    "transaction_id",
    "response_code",
    "url",
    "error",
    "server_response",
    "method",
    "attempt",
    "duration_ms",
    "trigger",
]


def make_log(offer_id, **fields) -> PostbackLog:
    fields.setdefault("status", "success")
    fields.setdefault("postback_name", "Main")
    fields.setdefault("postback_type", "conversion")
    fields.setdefault("url", "https://pb.example/?t=1")
    fields.setdefault("response_code", 200)
    return PostbackLog.objects.create(offer_id=offer_id, publisher_id=7, **fields)


@pytest.fixture
def logs(offer, foreign_offer):
    return {
        "ok": make_log(offer.pk, transaction_id="t-ok"),
        "failed": make_log(
            offer.pk,
            status="failed",
            response_code=404,
            error="HTTP 404",
            url="https://broken.example/pb",
            trigger="retry",
        ),
        "event": make_log(offer.pk, postback_type="event", event_id=12, postback_name="Buy"),
        "foreign": make_log(foreign_offer.pk, transaction_id="t-foreign"),
        "no_offer": make_log(None, postback_type="click", trigger="test"),
    }


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_advertiser_sees_only_its_offers_logs(api, advertiser_key, logs):
    response = api.get("postback-logs/", advertiser_key)
    assert _ids(response) == [logs["event"].pk, logs["failed"].pk, logs["ok"].pk]


def test_staff_sees_every_log(api, staff_key, logs):
    assert len(_ids(api.get("postback-logs/", staff_key))) == 5


def test_fields_and_lowercase_enums(api, advertiser_key, logs):
    row = api.get("postback-logs/", advertiser_key, {"status": "failed"}).json()["results"][0]
    assert list(row) == FIELDS
    assert (row["status"], row["postback_type"], row["trigger"]) == (
        "failed",
        "conversion",
        "retry",
    )
    assert (row["response_code"], row["error"]) == (404, "HTTP 404")


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"status": "failed"}, ["failed"]),
        ({"status": "Success"}, ["event", "ok"]),
        ({"event_id__not": "12"}, ["failed", "ok"]),
        ({"url__contains": "BROKEN"}, ["failed"]),
        ({"postback_type": ["event", "conversion"], "response_code": "200"}, ["event", "ok"]),
        ({"transaction_id": "t-foreign"}, []),
    ],
)
def test_filters_are_the_logs_page_filters(api, advertiser_key, logs, params, expected):
    response = api.get("postback-logs/", advertiser_key, params)
    assert _ids(response) == [logs[name].pk for name in expected]


def test_foreign_offer_filter_finds_nothing(api, advertiser_key, logs, foreign_offer):
    assert _ids(api.get("postback-logs/", advertiser_key, {"offer_id": foreign_offer.pk})) == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"status": "maybe"}, "status"),
        ({"offer_id": "abc"}, "offer_id"),
        ({"response_code__contains": "2x"}, "response_code__contains"),
        ({"created_after": "last tuesday"}, "created_after"),
        ({"colour": "red"}, "colour"),
        ({"cursor": "zzz"}, "cursor"),
        ({"page_size": "100000"}, "page_size"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(api, advertiser_key, params, field):
    response = api.get("postback-logs/", advertiser_key, params)
    assert response.status_code == 400
    assert list(errors(response)) == [field]


def test_cursor_pages_newest_first(api, staff_key, logs):
    seen = []
    response = api.get("postback-logs/", staff_key, {"page_size": 2, "status": "success"})
    while True:
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        if not body["next"]:
            break
        response = api.get(body["next"], staff_key)
    assert seen == sorted(
        (log.pk for log in logs.values() if log.status == "success"), reverse=True
    )


def test_csv_streams_the_filtered_rows(api, advertiser_key, logs):
    response = api.get("postback-logs/", advertiser_key, {"format": "csv", "status": "success"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["Time", "Status", "Postback Name", "Postback Type"]
    assert [row[7] for row in rows[1:]] == ["", "t-ok"]
    assert {row[1] for row in rows[1:]} == {"Success"}


def test_csv_with_a_bad_filter_is_a_json_400(api, advertiser_key, logs):
    response = api.get("postback-logs/", advertiser_key, {"format": "csv", "status": "nope"})
    assert response.status_code == 400
    assert list(errors(response)) == ["status"]


def test_no_key_is_401(api, logs):
    assert api.get("postback-logs/").status_code == 401


@pytest.mark.parametrize(
    "params", [{"postback_name__contains": "no such name"}, {"status": "failed"}]
)
def test_csv_of_nothing_is_just_the_header(api, advertiser_key, outsider_key, logs, params):
    response = api.get("postback-logs/", outsider_key, {"format": "csv", **params})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1 and rows[0][0] == "Time"
