"""Ops in a real browser: sign in, filter the logs with the UI, open a row, download CSV."""

import csv
import io
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.utils import timezone

from postbacks.models import PostbackLog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ops_login(django_user_model):
    django_user_model.objects.create_user("ops", password="s3cret-pass", is_staff=True)
    return "ops", "s3cret-pass"


@pytest.fixture
def logs():
    now = timezone.now()
    rows = []
    specs = [
        ("success", "Install postback", "conversion", 10, 7, None, 200, "", "OK"),
        ("failed", "Install postback", "conversion", 10, 7, None, 404, "HTTP 404", "Not found"),
        ("failed", "Purchase postback", "event", 11, 8, 5, 500, "HTTP 500", "Server error"),
        ("failed", "Click feed", "click", 12, 9, None, 0, "Timeout after 10 s", ""),
        ("success", "Click feed", "click", 12, 9, None, 200, "", "OK"),
        ("failed", "Rejections", "rejection", 10, 7, None, 400, "HTTP 400", 'Missing, "goal"'),
    ]
    for index, spec in enumerate(specs):
        status, name, kind, offer, publisher, event, code, error, body = spec
        rows.append(
            PostbackLog.objects.create(
                created=now - timedelta(minutes=10 * (len(specs) - index)),
                status=status,
                postback_name=name,
                postback_type=kind,
                offer_id=offer,
                publisher_id=publisher,
                event_id=event,
                transaction_id=f"txn-{index}",
                response_code=code,
                url=f"https://pub{publisher}.example/postback?click_id=txn-{index}&goal=install"
                + "&padding="
                + "x" * 120,
                error=error,
                server_response=body,
            )
        )
    return rows


def table_ids(page) -> list[int]:
    return [
        int(pk)
        for pk in page.locator("#log-table tbody tr[data-id]").evaluate_all(
            "rows => rows.map(row => row.dataset.id)"
        )
    ]


def test_sign_in_filter_open_and_download(page, live_server, ops_login, logs, screenshot_dir):
    username, password = ops_login

    # Anonymous: sent to the login form, which brings us back to /logs/.
    page.goto(f"{live_server.url}/logs/")
    assert urlsplit(page.url).path == "/accounts/login/"
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/logs/")
    assert table_ids(page) == [log.id for log in reversed(logs)]
    page.screenshot(path=str(screenshot_dir / "logs-all.png"), full_page=True)

    # Two filters through the controls: Status Is Failed, and Publisher ID Is not 9.
    first = page.locator(".filter-row").nth(0)
    first.locator(".f-column").select_option("status")
    first.locator(".f-operator").select_option("is")
    first.locator(".f-value").fill("Failed")
    page.click("#add-filter")
    second = page.locator(".filter-row").nth(1)
    second.locator(".f-column").select_option("publisher_id")
    second.locator(".f-operator").select_option("not")
    second.locator(".f-value").fill("9")
    page.click("#apply-filters")
    page.wait_for_url("**/logs/?*")

    assert parse_qsl(urlsplit(page.url).query) == [
        ("status", "Failed"),
        ("publisher_id__not", "9"),
    ]
    expected = [logs[5].id, logs[2].id, logs[1].id]
    assert table_ids(page) == expected
    page.screenshot(path=str(screenshot_dir / "logs-filtered.png"), full_page=True)

    # A long URL is cut to one line; a click shows it whole.
    url_cell = page.locator(f'tr[data-id="{logs[5].id}"] td.cell-url details')
    assert url_cell.get_attribute("open") is None
    url_cell.locator("summary").click()
    assert url_cell.get_attribute("open") is not None

    # Download CSV keeps the filters.
    with page.expect_download() as download_info:
        page.click("#download-csv")
    download = download_info.value
    text = open(download.path(), encoding="utf-8").read()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0][:3] == ["Time", "Status", "Postback Name"]
    assert [row[7] for row in rows[1:]] == ["txn-5", "txn-2", "txn-1"]
    assert rows[1][11] == 'Missing, "goal"'

    # Columns…: the same filters, the columns ticked, in the order listed.
    page.click("#column-chooser summary")
    chooser = page.locator("#column-chooser form")
    for name in ("created", "postback_name", "postback_type", "url", "server_response"):
        chooser.locator(f"input[value={name}]").uncheck()
    chooser.locator("input[value=attempt]").check()
    chooser.locator("input[value=url_parameters]").check()
    for width in (1400, 800):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(screenshot_dir / f"logs-columns-{width}.png"))
    with page.expect_download() as download_info:
        page.click("#download-columns")
    download = download_info.value
    assert "status-failed" in download.suggested_filename
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8").read(), newline="")))
    assert rows[0] == [
        "Status",
        "Offer ID",
        "Publisher ID",
        "Event ID",
        "Transaction ID",
        "Response Code",
        "Error",
        "Attempt",
        "URL Parameters",
    ]
    assert [row[4] for row in rows[1:]] == ["txn-5", "txn-2", "txn-1"]
    page.set_viewport_size({"width": 1400, "height": 900})

    # Open a row: the attempt in full.
    page.click(f'tr[data-id="{logs[2].id}"] a.row-link')
    page.wait_for_url(f"**/logs/{logs[2].id}/")
    assert page.locator("h1").inner_text().startswith(f"Attempt #{logs[2].id}")
    assert page.locator("#full-url").inner_text() == logs[2].url
    assert page.locator("#server-response").inner_text() == "Server error"
    page.screenshot(path=str(screenshot_dir / "log-detail.png"), full_page=True)


def test_removing_a_filter_row_and_bad_values(page, live_server, ops_login, logs, screenshot_dir):
    username, password = ops_login
    page.goto(f"{live_server.url}/accounts/login/?next=/logs/%3Foffer_id%3D10")
    page.screenshot(path=str(screenshot_dir / "login.png"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/logs/?offer_id=10")
    assert table_ids(page) == [logs[5].id, logs[1].id, logs[0].id]

    # The filter bar shows the URL's filter; removing it and applying lists every row.
    row = page.locator(".filter-row").nth(0)
    assert row.locator(".f-column").input_value() == "offer_id"
    assert row.locator(".f-value").input_value() == "10"
    row.locator(".f-remove").click()
    page.click("#apply-filters")
    page.wait_for_url(f"{live_server.url}/logs/?")
    assert len(table_ids(page)) == len(logs)

    # A bad value is a clear message on the page.
    first = page.locator(".filter-row").nth(0)
    first.locator(".f-column").select_option("offer_id")
    first.locator(".f-value").fill("abc")
    page.click("#apply-filters")
    page.wait_for_url("**/logs/?offer_id=abc")
    assert "is not a whole number" in page.locator("#filter-errors").inner_text()
    page.screenshot(path=str(screenshot_dir / "logs-bad-filter.png"), full_page=True)
