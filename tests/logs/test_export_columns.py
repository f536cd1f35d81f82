"""`columns=` on /logs/export.csv and the API's CSV (SPEC §13): every log field, in the
order given, formula cells neutralised in every column, a filename that says the filter."""

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from django.http import QueryDict

from logs.export import EXPORT_COLUMNS, HEADER, chosen_columns, export_filename

ALL = list(EXPORT_COLUMNS)
FORMULA = "=HYPERLINK(1)"


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture
def full_log(make_log):
    return make_log(
        status="failed",
        postback_type="event",
        event_id=5,
        transaction_id="tx-1",
        response_code=503,
        url="https://pub.example/pb?tid=tx-1&e=af_purchase&v=2#top",
        error="HTTP 503",
        server_response="busy",
        method="POST",
        attempt=3,
        trigger="retry",
        duration_ms=1234,
        webhook_id="msg_abc",
        config_version=4,
        request_body='{"t": "tx-1"}',
    )


def test_every_column_in_the_order_given(ops_client, full_log):
    order = list(reversed(ALL))
    rows = read_csv(ops_client.get("/logs/export.csv", {"columns": order}))

    assert rows[0] == [EXPORT_COLUMNS[name] for name in order]
    cells = dict(zip(order, rows[1], strict=True))
    assert cells == {
        "created": f"{full_log.created:%Y-%m-%dT%H:%M:%SZ}",
        "status": "Failed",
        "postback_name": "Traffic Co install",
        "postback_type": "Event",
        "offer_id": "1",
        "publisher_id": "7",
        "event_id": "5",
        "transaction_id": "tx-1",
        "response_code": "503",
        "url": "https://pub.example/pb?tid=tx-1&e=af_purchase&v=2#top",
        "error": "HTTP 503",
        "server_response": "busy",
        "id": str(full_log.pk),
        "method": "POST",
        "attempt": "3",
        "trigger": "Retry",
        "duration_ms": "1234",
        "webhook_id": "msg_abc",
        "config_version": "4",
        "request_body": '{"t": "tx-1"}',
        "url_parameters": "tid=tx-1\ne=af_purchase\nv=2",
    }


def test_columns_may_be_comma_separated_and_default_to_section_5(ops_client, full_log):
    rows = read_csv(ops_client.get("/logs/export.csv?columns=id,url_parameters"))
    assert rows == [["ID", "URL Parameters"], [str(full_log.pk), "tid=tx-1\ne=af_purchase\nv=2"]]
    assert read_csv(ops_client.get("/logs/export.csv"))[0] == HEADER


def test_a_url_without_a_query_has_no_parameters(ops_client, make_log):
    make_log(url="https://pub.example/pb")
    assert read_csv(ops_client.get("/logs/export.csv?columns=url_parameters"))[1] == [""]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("columns=id,passwords", "Unknown column 'passwords'"),
        ("columns=id&columns=id", "'id' is given twice"),
        ("columns=", "at least one column"),
    ],
)
def test_bad_columns_are_a_400_naming_them(ops_client, client, staff_key, db, query, words):
    page = ops_client.get(f"/logs/export.csv?{query}")
    assert page.status_code == 400 and words in page.content.decode()

    api = client.get(
        f"/api/v1/postback-logs/?format=csv&{query}", HTTP_AUTHORIZATION=f"Bearer {staff_key}"
    )
    assert api.status_code == 400
    assert words in " ".join(api.json()["errors"]["columns"])


def test_formula_cells_are_neutralised_in_every_column(ops_client, make_log):
    make_log(
        postback_name=FORMULA,
        transaction_id=FORMULA,
        url=f"https://pub.example/pb?{FORMULA}",
        error=FORMULA,
        server_response=FORMULA,
        method="-GET",
        webhook_id="@msg",
        request_body="+1",
    )
    text_columns = [
        "postback_name",
        "transaction_id",
        "error",
        "server_response",
        "method",
        "webhook_id",
        "request_body",
        "url_parameters",
    ]
    row = read_csv(ops_client.get("/logs/export.csv", {"columns": text_columns}))[1]

    assert all(cell.startswith("'") for cell in row), row
    assert row[-1] == "'" + FORMULA


def test_the_api_csv_takes_the_same_columns(client, staff_key, full_log):
    response = client.get(
        "/api/v1/postback-logs/?format=csv&columns=transaction_id&columns=config_version",
        HTTP_AUTHORIZATION=f"Bearer {staff_key}",
    )
    assert read_csv(response) == [["Transaction ID", "Config Version"], ["tx-1", "4"]]
    assert "transaction_id-tx-1" not in response["Content-Disposition"]  # columns, not filters


def test_the_filename_says_the_filter(ops_client, full_log):
    response = ops_client.get("/logs/export.csv?status=failed&publisher_id=7&columns=id")
    assert re.match(
        r'attachment; filename="postback-logs-publisher_id-7_status-failed-\d{8}-\d{6}\.csv"',
        response["Content-Disposition"],
    )


def test_filenames_stay_short_and_safe():
    now = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    filters = QueryDict("url__contains=" + "https://x/" * 40 + '&error__contains=a"b/c')
    name = export_filename(filters, now)
    assert re.fullmatch(r"postback-logs-[a-z0-9_-]{1,120}-20261203-093000\.csv", name), name
    assert export_filename(QueryDict(""), now) == "postback-logs-20261203-093000.csv"


def test_chosen_columns_keeps_the_order():
    assert chosen_columns(["url,id", "status"]) == (["url", "id", "status"], "")
