"""/logs/export.csv: the page's rows as a streaming, spreadsheet-safe UTF-8 CSV."""

import csv
import io
import re

import pytest

from logs.export import HEADER, LOG_COLUMNS, csv_response
from postbacks.models import PostbackLog


def read_csv(response) -> list[list[str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_header_is_the_section_5_columns():
    assert HEADER == [
        "Time",
        "Status",
        "Postback Name",
        "Postback Type",
        "Offer ID",
        "Publisher ID",
        "Event ID",
        "Transaction ID",
        "Response Code",
        "URL",
        "Error",
        "Server Response",
    ]
    assert [field for field, _ in LOG_COLUMNS][1:] == [
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
    ]


def test_download_is_streamed_utf8_with_a_file_name(ops_client, sample_logs):
    response = ops_client.get("/logs/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.match(
        r'attachment; filename="postback-logs-\d{8}-\d{6}\.csv"', response["Content-Disposition"]
    )
    rows = read_csv(response)
    assert rows[0] == HEADER
    assert len(rows) == 1 + len(sample_logs)


def test_rows_use_labels_and_empty_cells_for_missing_values(ops_client, sample_logs):
    rows = read_csv(ops_client.get("/logs/export.csv?transaction_id=abc123"))
    log = sample_logs["click"]
    assert rows[1] == [
        log.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Success",
        "Click feed",
        "Click",
        "10",
        "7",
        "",
        "abc123",
        "200",
        "https://clicks.example/c?id=abc123",
        "",
        "OK",
    ]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "status=failed",
        "event_id__not=5",
        "response_code__contains=40",
        "postback_type=Event&status=Success",
        "offer_id=10&offer_id=12&url__contains=example",
        "created_after=2000-01-01T00:00:00Z&created_before=2100-01-01&postback_name__contains=post",
    ],
)
def test_same_rows_as_the_page_for_the_same_filters(ops_client, sample_logs, query):
    page = ops_client.get(f"/logs/?{query}").content.decode()
    page_ids = [int(pk) for pk in re.findall(r'<tr data-id="(\d+)"', page)]
    rows = read_csv(ops_client.get(f"/logs/export.csv?{query}"))[1:]
    by_id = {log.id: log for log in sample_logs.values()}
    assert [row[7] for row in rows] == [by_id[pk].transaction_id for pk in page_ids]
    assert [row[9] for row in rows] == [by_id[pk].url for pk in page_ids]


def test_commas_quotes_and_newlines_survive(ops_client, make_log):
    nasty = 'line one, with "quotes"\nline two\r\nline three'
    make_log(server_response=nasty, postback_name='Name, with "comma"')
    rows = read_csv(ops_client.get("/logs/export.csv"))
    assert rows[1][11] == nasty
    assert rows[1][2] == 'Name, with "comma"'


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\n"])
def test_formula_cells_are_neutralised(ops_client, make_log, start):
    make_log(
        server_response=start + 'HYPERLINK("http://evil.example","x")',
        error=start + "1+1",
        postback_name=start + "cmd|' /C calc'!A0",
        transaction_id=start + "t",
        url=start + "url",
    )
    row = read_csv(ops_client.get("/logs/export.csv"))[1]
    for index in (2, 7, 9, 10, 11):
        assert row[index].startswith("'" + start), (index, row[index])


def spreadsheet_safe(cell: str) -> str:
    """SPEC §6: a cell starting with =, +, -, @, tab, CR or LF gets a leading quote."""
    return "'" + cell if cell and cell[0] in "=+-@\t\r\n" else cell


@pytest.mark.parametrize(("error", "cell"), [("OK", "OK"), ("", ""), ("a=b", "a=b"), ("-1", "'-1")])
def test_safe_cells_are_untouched(ops_client, make_log, error, cell):
    make_log(error=error)
    assert read_csv(ops_client.get("/logs/export.csv"))[1][10] == cell


def test_non_ascii_is_utf8(ops_client, make_log):
    make_log(postback_name="Café ✓ 日本語", server_response="Ошибка: 参数缺失 🚫")
    response = ops_client.get("/logs/export.csv")
    raw = b"".join(response.streaming_content)
    assert "Café ✓ 日本語".encode() in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert rows[1][2] == "Café ✓ 日本語" and rows[1][11] == "Ошибка: 参数缺失 🚫"


@pytest.mark.django_db
def test_every_row_is_streamed_in_chunks():
    PostbackLog.objects.bulk_create(
        PostbackLog(
            status="success",
            postback_name="Bulk",
            postback_type="click",
            transaction_id=f"t{i}",
            url="https://pub.example/",
        )
        for i in range(2503)
    )
    response = csv_response(PostbackLog.objects.order_by("-id"))
    chunks = list(response.streaming_content)
    assert len(chunks) >= 3  # streamed, not one big string
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode(), newline="")))
    assert len(rows) == 2504
    assert rows[1][7] == "t2502" and rows[-1][7] == "t0"


def test_bad_filters_are_a_400_in_words(ops_client, sample_logs):
    response = ops_client.get("/logs/export.csv?offer_id=abc&colour=red")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'offer_id: "abc" is not a whole number' in text
    assert "colour: Unknown filter parameter." in text


def test_page_cursors_do_not_narrow_the_export(ops_client, sample_logs):
    rows = read_csv(ops_client.get(f"/logs/export.csv?before={sample_logs['timeout'].id}"))
    assert len(rows) == 1 + len(sample_logs)


def test_filter_values_cannot_break_out_of_the_query(ops_client, sample_logs):
    evil = "x'); DROP TABLE logs_postbacklog; --"
    response = ops_client.get("/logs/export.csv", {"transaction_id": evil, "url__contains": "%"})
    assert read_csv(response) == [HEADER]
    assert PostbackLog.objects.count() == len(sample_logs)


def test_filters_with_quotes_and_percent_signs_match_literally(ops_client, make_log):
    make_log(server_response='50% off: it\'s "free"')
    make_log(server_response="500 off")
    response = ops_client.get("/logs/export.csv", {"server_response__contains": "0% off: it's"})
    rows = read_csv(response)
    assert [row[11] for row in rows[1:]] == ['50% off: it\'s "free"']


@pytest.mark.parametrize(
    "value", ["0 ok", "A=1", "'quoted", " =space first", "é=", "~tilde", "=", "-", "9"]
)
def test_database_neutralises_exactly_by_the_rule(ops_client, make_log, value):
    make_log(error=value)
    row = read_csv(ops_client.get("/logs/export.csv"))[1]
    assert row[10] == spreadsheet_safe(value)


@pytest.mark.parametrize(
    "query",
    ["postback_name__contains=no+such+name", "offer_id=999", "status=failed&status__not=failed"],
)
def test_no_matching_rows_is_just_the_header(ops_client, sample_logs, query):
    assert read_csv(ops_client.get(f"/logs/export.csv?{query}")) == [HEADER]


@pytest.mark.django_db
def test_an_empty_queryset_is_just_the_header():
    assert read_csv(csv_response(PostbackLog.objects.none())) == [HEADER]
