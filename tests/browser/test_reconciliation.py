"""Reconciliation in a real browser: the report per publisher and day, then a publisher's
CSV uploaded, its three lists on the page and each list downloaded."""

import csv
import io

import pytest
from django.utils import timezone

from offers.models import Click
from tests.conftest import convert
from tests.delivery.receiver import Answer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(page, live_server, django_user_model):
    django_user_model.objects.create_superuser("ops", password="s3cret-pass")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "s3cret-pass")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return live_server.url


@pytest.fixture
def conversions(client, advertiser_key, offer, publisher, make_config, receiver):
    """Three conversions: one delivered, one failed for good, one whose config is gone."""
    make_config(receiver.url("/pb"), max_attempts=1)
    receiver.answer(Answer(200), Answer(500))
    ids = []
    for _ in range(2):
        click = Click.objects.create(offer=offer, publisher=publisher)
        convert(client, advertiser_key, transaction_id=click.transaction_id)
        ids.append(click.transaction_id)
    return ids


def test_the_report_then_a_publishers_file_matched(
    page, signed_in, conversions, publisher, tmp_path, screenshot_dir
):
    page.goto(f"{signed_in}/reports/reconciliation/")
    row = page.locator("#reconciliation tbody tr").first
    assert "Traffic Co" in row.inner_text()
    for width in (1400, 800):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(screenshot_dir / f"reconciliation-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})
    with page.expect_download() as download_info:
        page.click("#download-report")
    assert download_info.value.suggested_filename.startswith("reconciliation-")

    report = tmp_path / "their-november.csv"
    report.write_text(f"Click ID,Payout\n{conversions[0]},1.75\nnot-ours-1,1.75\n")
    page.click("#reconcile-upload")
    page.select_option("#id_publisher", str(publisher.pk))
    day = f"{timezone.now():%Y-%m-%d}"
    page.fill("#id_date_from", day)
    page.fill("#id_date_to", day)
    page.set_input_files("#id_file", str(report))
    page.fill("#id_transaction_id_column", "Click ID")
    page.click("#match-submit")
    page.wait_for_url("**/reconciliation/match/*/")

    assert page.locator("#count-both").inner_text() == "1"
    assert page.locator("#count-ours").inner_text() == "1"
    assert page.locator("#count-theirs").inner_text() == "1"
    ours = page.locator("#ours-only tbody tr").first.inner_text()
    assert conversions[1] in ours and "failed" in ours and "HTTP 500" in ours
    assert "not-ours-1" in page.locator("#theirs-only").inner_text()
    for width in (1400, 800):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(
            path=str(screenshot_dir / f"reconciliation-match-{width}.png"), full_page=True
        )
    with page.expect_download() as download_info:
        page.locator("#ours-only a[download]").click()
    rows = list(csv.reader(io.StringIO(open(download_info.value.path()).read())))
    assert rows[1][0] == conversions[1] and rows[1][3] == "failed"


def test_a_bad_file_is_named_on_the_form(page, signed_in, publisher, tmp_path, screenshot_dir):
    report = tmp_path / "broken.csv"
    report.write_bytes(b"Click ID\nabc\n\xff\xfe\n")
    page.goto(f"{signed_in}/reports/reconciliation/match/")
    page.select_option("#id_publisher", str(publisher.pk))
    page.fill("#id_date_from", "2026-11-01")
    page.fill("#id_date_to", "2026-11-30")
    page.set_input_files("#id_file", str(report))
    page.fill("#id_transaction_id_column", "Click ID")
    page.click("#match-submit")

    error = page.locator("#field-file .field-error")
    assert "Line 3 is not UTF-8 text" in error.inner_text()
    page.set_viewport_size({"width": 800, "height": 900})
    page.screenshot(
        path=str(screenshot_dir / "reconciliation-upload-error-800.png"), full_page=True
    )
