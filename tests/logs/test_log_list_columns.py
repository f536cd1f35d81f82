"""/logs/ after SPEC §11 "Log list": attempt, trigger and duration columns, the trigger
filter (page, CSV, API), rows of disabled configs marked, and the Live rows endpoint."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from logs.table import duration
from tests.logs.test_list_page import row_ids

NOT_CONTAINS = "trigger takes no Contains: use trigger= (Is) or trigger__not= (Is not)."


def cells(html: str, log_id: int) -> list[str]:
    row = re.search(rf'<tr data-id="{log_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert row, f"row {log_id} not on the page"
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row[1])]


def csv_ids(response) -> list[str]:
    text = b"".join(response.streaming_content).decode()
    return [row[7] for row in list(csv.reader(io.StringIO(text, newline="")))[1:]]


@pytest.fixture
def api_client(staff_key) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {staff_key}")


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0, "0 ms"), (84, "84 ms"), (999, "999 ms"), (1200, "1.2 s"), (10000, "10.0 s")],
)
def test_duration_reads_in_ms_then_seconds(ms, text):
    assert duration(ms) == text


def test_it_shows_attempt_trigger_and_duration_after_the_code(ops_client, make_log):
    log = make_log(attempt=3, trigger="refire", duration_ms=1234, response_code=503)
    row = cells(ops_client.get("/logs/").content.decode(), log.id)
    assert row[8:12] == ["503", "3", "Re-fire", "1.2 s"]


def test_csv_keeps_the_section_5_columns(ops_client, make_log):
    make_log(trigger="retry")
    text = b"".join(ops_client.get("/logs/export.csv").streaming_content).decode()
    assert "Trigger" not in text.splitlines()[0] and "Attempt" not in text.splitlines()[0]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("trigger=Re-fire", ["unauthorised"]),
        ("trigger=REFIRE&trigger=retry", ["unauthorised", "not_found"]),
        ("trigger__not=automatic", ["timeout", "unauthorised", "not_found"]),
    ],
)
def test_trigger_filter_on_page_csv_and_api(ops_client, api_client, sample_logs, query, names):
    ids = [sample_logs[name].id for name in names]
    assert row_ids(ops_client.get(f"/logs/?{query}")) == ids
    expected_txns = [sample_logs[name].transaction_id for name in names]
    assert csv_ids(ops_client.get(f"/logs/export.csv?{query}")) == expected_txns
    response = api_client.get(f"/api/v1/postback-logs/?{query}")
    assert [row["id"] for row in response.json()["results"]] == ids


def test_trigger_contains_is_refused_naming_the_parameter(ops_client, api_client, sample_logs):
    page = ops_client.get("/logs/?trigger__contains=re")
    assert page.status_code == 400
    assert "<code>trigger__contains</code>" in page.content.decode()
    csv_response = ops_client.get("/logs/export.csv?trigger__contains=re")
    assert csv_response.status_code == 400
    assert f"trigger__contains: {NOT_CONTAINS}" in csv_response.content.decode()
    api = api_client.get("/api/v1/postback-logs/?trigger__contains=re")
    assert api.status_code == 400
    assert "trigger__contains" in api.json()["errors"]


def test_unknown_trigger_value_lists_the_choices(ops_client, sample_logs):
    response = ops_client.get("/logs/?trigger=manual")
    assert response.status_code == 400
    assert "Unknown trigger &quot;manual&quot;: use Automatic, Retry, Re-fire or Test." in (
        response.content.decode()
    )


def test_filter_bar_offers_trigger_without_contains(ops_client, sample_logs):
    html = ops_client.get("/logs/?trigger__not=Test").content.decode()
    assert '<option value="trigger" data-operators="is not" selected>Trigger</option>' in html
    assert 'name="trigger__not" value="Test"' in html
    assert '<datalist id="choices-trigger"><option value="Automatic">' in html
    assert '<option value="status" data-operators="is not contains"' in html


def test_schema_lists_trigger_and_trigger_not_only(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    names = {p["name"] for p in schema["paths"]["/api/v1/postback-logs/"]["get"]["parameters"]}
    assert {"trigger", "trigger__not"} <= names
    assert "trigger__contains" not in names


@pytest.fixture
def configs(make_config):
    return {
        "on": make_config("https://pub.example/on"),
        "off": make_config(
            "https://pub.example/off",
            enabled=False,
            disabled_reason="2026-12-01 10:00 UTC: 10 failed deliveries in a row",
        ),
        "off_by_hand": make_config("https://pub.example/hand", enabled=False),
    }


def test_rows_of_disabled_configs_are_marked_with_the_reason(ops_client, make_log, configs):
    on = make_log(config=configs["on"])
    off = make_log(config=configs["off"])
    by_hand = make_log(config=configs["off_by_hand"])
    html = ops_client.get("/logs/").content.decode()
    assert f'<tr data-id="{on.id}" class="log-row">' in html
    assert f'<tr data-id="{off.id}" class="log-row config-off">' in html
    assert 'title="Config disabled: 2026-12-01 10:00 UTC: 10 failed deliveries in a row"' in html
    assert "Config disabled" in cells(html, by_hand.id)[2]
    assert 'title="Config disabled: Disabled by hand (no reason recorded)."' in html


def test_disabled_mark_costs_one_query_and_no_join(ops_client, make_log, make_config):
    def list_queries() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert ops_client.get("/logs/").status_code == 200
        return [query["sql"] for query in queries.captured_queries]

    make_log(config=make_config("https://pub.example/a", enabled=False))
    one = list_queries()
    for index in range(5):
        make_log(config=make_config(f"https://pub.example/{index}", enabled=False))
    assert len(list_queries()) == len(one)
    page_query = next(sql for sql in one if 'FROM "logs_postbacklog"' in sql and "LIMIT 51" in sql)
    assert "JOIN" not in page_query
    assert sum('FROM "postbacks_postbackconfig"' in sql for sql in one) == 1


def test_page_without_configs_reads_no_configs(ops_client, sample_logs):
    with CaptureQueriesContext(connection) as queries:
        ops_client.get("/logs/")
    assert not any("postbacks_postbackconfig" in q["sql"] for q in queries.captured_queries)


def test_detail_of_a_disabled_config_says_so_and_disables_refire(ops_client, make_log, configs):
    log = make_log(config=configs["off"])
    html = ops_client.get(f"/logs/{log.id}/").content.decode()
    assert 'id="config-disabled"' in html
    assert re.search(
        r'<button type="button" class="btn" id="refire" disabled title="[^"]*10 failed', html
    )
    assert f'action="/logs/{log.id}/refire/"' not in html


def test_detail_of_an_enabled_config_has_no_mark(ops_client, make_log, configs):
    log = make_log(config=configs["on"])
    assert 'id="config-disabled"' not in ops_client.get(f"/logs/{log.id}/").content.decode()


def test_live_is_accepted_kept_on_the_page_and_left_out_of_links(ops_client, make_log):
    for index in range(51):
        make_log(transaction_id=f"t{index}")
    response = ops_client.get("/logs/?live=1&status=success")
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'id="live-toggle" name="live" value="1" checked', html)
    csv_link = re.search(r'id="download-csv" href="([^"]+)"', html)[1]
    older_link = re.search(r'id="older" href="([^"]+)"', html)[1]
    assert "live" not in csv_link and "status=success" in csv_link
    assert "live" not in older_link


def test_live_toggle_is_off_by_default_and_disabled_on_older_pages(ops_client, make_log):
    log = make_log()
    assert (
        " checked"
        not in re.search(
            r'<input[^>]+id="live-toggle"[^>]*>', ops_client.get("/logs/").content.decode()
        )[0]
    )
    older = ops_client.get(f"/logs/?before={log.id + 1}").content.decode()
    assert re.search(r'<input[^>]+id="live-toggle"[^>]+ disabled>', older)


def test_csv_does_not_take_live(ops_client, make_log):
    assert ops_client.get("/logs/export.csv?live=1").status_code == 400


def test_rows_endpoint_returns_only_newer_matching_rows(ops_client, make_log):
    seen = make_log(status="failed")
    newer_ok = make_log(status="success")
    newer_failed = make_log(status="failed", trigger="retry", attempt=2)
    newest_failed = make_log(status="failed")
    response = ops_client.get("/logs/rows/", {"after": seen.id, "status": "failed", "live": "1"})
    assert response.status_code == 200
    data = response.json()
    assert (data["count"], data["newest"], data["more"]) == (2, newest_failed.id, False)
    assert re.findall(r'<tr data-id="(\d+)"', data["html"]) == [
        str(newest_failed.id),
        str(newer_failed.id),
    ]
    assert str(newer_ok.id) not in re.findall(r'<tr data-id="(\d+)"', data["html"])


def test_rows_endpoint_with_nothing_new(ops_client, make_log):
    log = make_log()
    data = ops_client.get("/logs/rows/", {"after": log.id}).json()
    assert data == {"html": "", "count": 0, "newest": log.id, "more": False}


def test_rows_endpoint_says_when_more_than_a_page_arrived(ops_client, make_log):
    first = make_log()
    rows = [make_log(transaction_id=f"t{index}") for index in range(51)]
    data = ops_client.get("/logs/rows/", {"after": first.id}).json()
    assert (data["count"], data["newest"], data["more"]) == (50, rows[-1].id, True)


@pytest.mark.parametrize(
    ("query", "name"),
    [("", "after"), ("after=abc", "after"), ("after=1&trigger__contains=x", "trigger__contains")],
)
def test_rows_endpoint_bad_parameters_are_400(ops_client, db, query, name):
    response = ops_client.get(f"/logs/rows/?{query}")
    assert response.status_code == 400
    assert name in response.json()["errors"]


def test_rows_endpoint_is_staff_only(client, django_user_model, make_log):
    log = make_log()
    assert client.get(f"/logs/rows/?after={log.id}").status_code == 302
    member = django_user_model.objects.create_user("member", password="pw")
    client.force_login(member)
    assert client.get(f"/logs/rows/?after={log.id - 1}").status_code == 403


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL index")
def test_trigger_filter_has_its_btree_index(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'pblog_trigger_id'")
        (definition,) = cursor.fetchone()
    assert "(trigger, id DESC)" in definition
