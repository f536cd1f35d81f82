"""/logs/: newest first, the §5 columns, filters in the URL, keyset pagination."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

HEADERS = [
    "Time",
    "Status",
    "Postback Name",
    "Postback Type",
    "Offer ID",
    "Publisher ID",
    "Event ID",
    "Transaction ID",
    "Response Code",
    "Attempt",
    "Trigger",
    "Duration",
    "URL",
    "Error",
    "Server Response",
]


def row_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-id="(\d+)"', response.content.decode())]


def test_newest_first_with_the_columns_in_order(ops_client, sample_logs):
    response = ops_client.get("/logs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r'<th scope="col">([^<]+)</th>', html) == HEADERS
    assert row_ids(response) == sorted((log.id for log in sample_logs.values()), reverse=True)


def test_status_is_a_badge_with_a_word(ops_client, sample_logs):
    html = ops_client.get("/logs/").content.decode()
    assert '<span class="badge badge-failed">Failed</span>' in html
    assert '<span class="badge badge-success">Success</span>' in html


def test_page_shows_the_same_rows_as_filter_logs(ops_client, sample_logs):
    response = ops_client.get("/logs/", {"status": "failed", "response_code__contains": "40"})
    assert row_ids(response) == [sample_logs["unauthorised"].id, sample_logs["not_found"].id]


def test_filter_bar_shows_the_filters_of_the_url(ops_client, sample_logs):
    response = ops_client.get(
        "/logs/?status=failed&event_id__not=5&url__contains=pub&created_after=2020-01-01"
    )
    html = response.content.decode()
    assert 'name="status" value="failed"' in html
    assert 'name="event_id__not" value="5"' in html
    assert 'name="url__contains" value="pub"' in html
    assert 'name="created_after" id="created_after" value="2020-01-01"' in html
    assert re.search(r'<option value="not" selected>Is not</option>', html)
    assert re.search(r'<option value="contains" selected>Contains</option>', html)


def test_download_link_keeps_the_filters(ops_client, sample_logs):
    html = ops_client.get("/logs/?status=failed&offer_id=11").content.decode()
    assert 'href="/logs/export.csv?status=failed&amp;offer_id=11"' in html


def test_bad_filters_show_a_clear_message_not_a_500(ops_client, sample_logs):
    response = ops_client.get("/logs/?offer_id=abc&created_after=yesterday&colour=red")
    assert response.status_code == 400
    html = response.content.decode()
    assert "These filters could not be applied" in html
    assert "<code>offer_id</code>: &quot;abc&quot; is not a whole number" in html
    assert "<code>created_after</code>" in html
    assert "<code>colour</code>: Unknown filter parameter." in html
    assert row_ids(response) == []


def test_long_values_are_truncated_with_the_whole_value_a_click_away(ops_client, make_log):
    body = "x" * 3000
    log = make_log(server_response=body, url="https://pub.example/" + "a" * 500)
    html = ops_client.get("/logs/").content.decode()
    assert '<details class="clip"><summary title="Click to show the full value">' in html
    assert "https://pub.example/" + "a" * 500 in html  # the whole URL, one click away
    assert "x" * 3000 not in html  # the list only previews long responses
    assert f'href="/logs/{log.id}/">Whole response on the attempt page' in html


def test_pagination_is_keyset_without_count(ops_client, make_log):
    logs = [make_log(transaction_id=f"t{i}") for i in range(120)]
    newest_first = [log.id for log in reversed(logs)]

    with CaptureQueriesContext(connection) as queries:
        first = ops_client.get("/logs/")
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)
    assert row_ids(first) == newest_first[:50]
    html = first.content.decode()
    assert 'id="newer"' not in html
    older = re.search(r'id="older" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert older == f"?before={newest_first[49]}"

    second = ops_client.get("/logs/" + older)
    assert row_ids(second) == newest_first[50:100]
    third_link = re.search(r'id="older" href="([^"]+)"', second.content.decode()).group(1)
    third = ops_client.get("/logs/" + third_link.replace("&amp;", "&"))
    assert row_ids(third) == newest_first[100:]
    assert 'id="older"' not in third.content.decode()

    newer = re.search(r'id="newer" href="([^"]+)"', third.content.decode()).group(1)
    back = ops_client.get("/logs/" + newer.replace("&amp;", "&"))
    assert row_ids(back) == newest_first[50:100]
    newer = re.search(r'id="newer" href="([^"]+)"', back.content.decode()).group(1)
    top = ops_client.get("/logs/" + newer.replace("&amp;", "&"))
    assert row_ids(top) == newest_first[:50]
    assert 'id="newer"' not in top.content.decode()


def test_pagination_keeps_the_filters(ops_client, make_log):
    failed = [make_log(status="failed").id for _ in range(65) if make_log(status="success")]
    first = ops_client.get("/logs/?status=failed")
    assert row_ids(first) == failed[::-1][:50]
    older = re.search(r'id="older" href="([^"]+)"', first.content.decode()).group(1)
    assert older == f"?status=failed&amp;before={failed[15]}"
    second = ops_client.get("/logs/" + older.replace("&amp;", "&"))
    assert row_ids(second) == failed[::-1][50:]
    assert 'id="older"' not in second.content.decode()


@pytest.mark.parametrize("cursor", ["before=abc", "after=-1", "before=99999999999999999999"])
def test_bad_page_cursor_is_a_clear_400(ops_client, sample_logs, cursor):
    response = ops_client.get(f"/logs/?{cursor}")
    assert response.status_code == 400
    assert "is not a page cursor" in response.content.decode()


def test_empty_result_says_so(ops_client, sample_logs):
    html = ops_client.get("/logs/?offer_id=999").content.decode()
    assert "No postback attempts match these filters." in html
