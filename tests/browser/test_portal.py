"""The portals in a real browser, signed in through the login form as each kind of
portal user: a publisher's (read-only, then allowed to edit) and an advertiser's.

The world is tests/portal/conftest.py's: "ours" (the portal users' publisher and
advertiser) and "theirs", whose every object carries the word "theirs", so a page that
shows it has leaked it. Secrets are `sekret-ours` (a URL parameter) and `hdr-ours` (an
Authorization header): no page may show them.

With PORTAL_SCREENSHOTS=1, each main page is saved at 1400 and 800 px wide into
/tmp/portal-shots/ (not in CI).
"""

import csv
import io
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from accounts.models import Membership
from offers.models import Conversion, ConversionStatus
from postbacks.models import PostbackLog
from tests.portal.world import DEAD_URL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "portal-pass-1"
SHOTS = Path("/tmp/portal-shots")
SECRETS = ("sekret-ours", "hdr-ours")


def shoot(page, name: str) -> None:
    """Full-page screenshots at 1400 and 800 px, only with PORTAL_SCREENSHOTS=1."""
    if os.environ.get("PORTAL_SCREENSHOTS") != "1":
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1400, 800):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})


def portal_user(django_user_model, username: str, **owner) -> tuple[str, str]:
    user = django_user_model.objects.create_user(username, password=PASSWORD)
    Membership.objects.create(user=user, **owner)
    return username, PASSWORD


@pytest.fixture
def publisher_login(django_user_model, ours, theirs):
    return portal_user(django_user_model, "pub-user", publisher=ours.publisher)


@pytest.fixture
def advertiser_login(django_user_model, ours, theirs):
    return portal_user(django_user_model, "adv-user", advertiser=ours.advertiser)


def sign_in(page, live_server, login: tuple[str, str], lands_on: str) -> None:
    """The login form with the real password; the portal user lands on `lands_on`."""
    username, password = login
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}{lands_on}")
    page.wait_for_load_state("load")


def path_of(page) -> str:
    return urlsplit(page.url).path


def log_ids(page) -> list[int]:
    return [
        int(pk)
        for pk in page.locator("#log-table tbody tr[data-id]").evaluate_all(
            "rows => rows.map(row => row.dataset.id)"
        )
    ]


def nav_links(page) -> list[str]:
    return [text.strip() for text in page.locator("nav.nav a").all_inner_texts()]


def assert_nothing_leaked(page) -> None:
    html = page.content()
    assert "theirs" not in html.lower()
    for secret in SECRETS:
        assert secret not in html


def test_publisher_reads_its_attempts_and_config_and_sends_a_test(
    page, live_server, publisher_login, ours, theirs, crossed
):
    sign_in(page, live_server, publisher_login, "/portal/logs/")

    # The top bar: portal links only, and whose portal this is.
    assert nav_links(page) == ["Postback attempts", "Postback configs"]
    assert page.locator("#portal-owner").inner_text() == "ours publisher"
    assert page.locator("nav.nav a.active").inner_text().strip() == "Postback attempts"
    assert page.locator("h1").inner_text() == "Postback attempts"

    # Their attempts: ours and the crossed one (sent to us), never theirs.
    assert sorted(log_ids(page)) == sorted([ours.log.pk, crossed.pk])
    assert theirs.log.pk not in log_ids(page)
    assert_nothing_leaked(page)
    shoot(page, "publisher-logs")

    # Download CSV: the same rows.
    with page.expect_download() as download_info:
        page.click("#download-csv")
    text = Path(download_info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    transaction_ids = sorted(row[rows[0].index("Transaction ID")] for row in rows[1:])
    assert transaction_ids == ["tid-crossed", "tid-ours"]
    assert "theirs" not in text

    # The attempt in full: no Re-fire for publishers, the secret masked.
    page.click(f'tr[data-id="{ours.log.pk}"] a.row-link')
    page.wait_for_url(f"**/portal/logs/{ours.log.pk}/")
    assert page.locator("h1").inner_text().startswith(f"Attempt #{ours.log.pk}")
    assert page.locator("#full-url").inner_text() == ours.log.url
    assert "token=****" in page.locator("#full-url").inner_text()
    assert page.locator("#refire").count() == 0
    assert page.get_by_role("button", name="Re-fire").count() == 0
    assert page.locator(".crumbs a").get_attribute("href") == "/portal/logs/"
    assert_nothing_leaked(page)
    shoot(page, "publisher-log-detail")

    # Postback configs, through the nav.
    page.locator("nav.nav").get_by_role("link", name="Postback configs").click()
    page.wait_for_url("**/portal/configs/")
    config_rows = page.locator("#configs tbody tr")
    assert config_rows.count() == 1
    assert "ours config" in config_rows.first.inner_text()
    assert "token=****" in config_rows.first.locator("td.cell-url").inner_text()
    assert_nothing_leaked(page)
    shoot(page, "publisher-configs")

    # The config: read-only settings, the token masked, no form.
    config_rows.first.get_by_role("link", name="ours config").click()
    page.wait_for_url(f"**/portal/configs/{ours.config.pk}/")
    page.wait_for_load_state("load")
    assert page.locator("#config-settings").is_visible()
    assert page.locator("#config-form").count() == 0
    assert page.locator("#save-config").count() == 0
    shown_url = page.locator("#config-url").inner_text()
    assert shown_url == f"{DEAD_URL}?tid={{transaction_id}}&who=ours&token=****"
    assert "Authorization: ****" in page.locator("#config-settings").inner_text()
    assert str(ours.log.pk) in page.locator("#recent-attempts").inner_text()
    assert_nothing_leaked(page)
    shoot(page, "publisher-config")

    # Send test: nothing listens on port 9, so the test fails fast, and says so.
    assert page.locator("#test-result").count() == 0
    page.click("#send-test")
    page.wait_for_function("() => document.querySelector('#test-result') !== null")
    result = page.locator("#test-result")
    assert "Test result" in result.inner_text()
    assert "Failed" in result.locator("h2 .badge").inner_text()
    assert page.locator("#test-error").inner_text() != ""
    assert "token=****" in result.inner_text()
    assert_nothing_leaked(page)
    shoot(page, "publisher-config-test")

    test_log = PostbackLog.objects.get(trigger="test")
    assert test_log.publisher_id == ours.publisher.pk
    assert "sekret-ours" not in test_log.url

    # The test's attempt is the publisher's: it opens, still without Re-fire.
    result.get_by_role("link", name="Open the attempt").click()
    page.wait_for_url(f"**/portal/logs/{test_log.pk}/")
    assert page.locator("h1").inner_text().startswith(f"Attempt #{test_log.pk}")
    assert page.get_by_role("button", name="Re-fire").count() == 0
    assert_nothing_leaked(page)


def test_publisher_that_may_edit_changes_the_url_and_keeps_the_token(
    page, live_server, publisher_login, ours
):
    ours.publisher.portal_can_edit = True
    ours.publisher.save()
    before = {
        name: getattr(ours.config, name)
        for name in ("method", "body", "success_rule", "event_names", "secret_parameters")
    }
    version = ours.config.version
    sign_in(page, live_server, publisher_login, "/portal/logs/")

    page.goto(f"{live_server.url}/portal/configs/{ours.config.pk}/")
    page.wait_for_load_state("load")
    assert page.locator("#config-form").is_visible()
    assert page.locator("#config-settings").count() == 0
    url_field = page.locator("#config-form [name=url]")
    shown = f"{DEAD_URL}?tid={{transaction_id}}&who=ours&token=****"
    assert url_field.input_value() == shown
    assert "hdr-ours" not in page.locator("#config-form [name=headers]").input_value()
    assert_nothing_leaked(page)
    shoot(page, "publisher-config-edit")

    url_field.fill("http://127.0.0.1:9/new-path?tid={transaction_id}&who=ours&token=****")
    page.click("#save-config")
    messages = page.locator("ul.messages")
    expect(messages).to_contain_text("Saved.")
    assert path_of(page) == f"/portal/configs/{ours.config.pk}/"
    assert page.locator("ul.messages li.message-success").count() == 1
    assert page.locator("#config-form [name=url]").input_value() == (
        "http://127.0.0.1:9/new-path?tid={transaction_id}&who=ours&token=****"
    )
    assert_nothing_leaked(page)
    shoot(page, "publisher-config-saved")

    ours.config.refresh_from_db()
    assert ours.config.url == (
        "http://127.0.0.1:9/new-path?tid={transaction_id}&who=ours&token=sekret-ours"
    )
    assert ours.config.headers["Authorization"] == "Bearer hdr-ours"
    assert ours.config.headers["X-Source"] == "ours"
    assert {name: getattr(ours.config, name) for name in before} == before
    assert ours.config.version == version + 1


def test_advertiser_approves_then_rejects_its_conversion(
    page, live_server, advertiser_login, ours, theirs
):
    sign_in(page, live_server, advertiser_login, "/portal/conversions/")

    assert nav_links(page) == ["Conversions", "Postback attempts"]
    assert page.locator("#portal-owner").inner_text() == "ours advertiser"
    assert page.locator("#conversion-filters").is_visible()
    rows = page.locator("#conversions tbody tr")
    assert rows.count() == 1
    assert "tid-ours" in rows.first.inner_text()
    assert "Pending" in rows.first.inner_text()
    assert_nothing_leaked(page)
    shoot(page, "advertiser-conversions")

    rows.first.get_by_role("link", name=str(ours.conversion.pk)).click()
    page.wait_for_url(f"**/portal/conversions/{ours.conversion.pk}/")
    page.wait_for_load_state("load")
    status = page.locator("#conversion-status")
    assert status.inner_text() == "Pending"
    assert "ours config" in page.locator("#deliveries").inner_text()
    assert str(ours.log.pk) in page.locator("#attempts").inner_text()
    assert page.locator("#refire").is_visible()
    assert page.locator("#approve").is_visible()
    assert_nothing_leaked(page)
    shoot(page, "advertiser-conversion-pending")

    # Approve: pending → approved; Approve is gone, Re-fire and Reject stay.
    page.click("#approve")
    expect(status).to_have_text("Approved")
    expect(page.locator("ul.messages")).to_contain_text("Approved;")
    assert page.locator("#approve").count() == 0
    assert page.locator("#refire").is_visible()
    assert page.locator("#reject").is_visible()
    assert Conversion.objects.get(pk=ours.conversion.pk).status == ConversionStatus.APPROVED
    shoot(page, "advertiser-conversion-approved")

    # Reject with a reason: shown on the page; nothing more to re-fire or reject.
    reason = "Install came from a flagged device farm"
    page.fill("#reject-reason", reason)
    page.click("#reject")
    expect(status).to_have_text("Rejected")
    expect(page.locator("ul.messages")).to_contain_text("Rejected;")
    assert page.locator("#rejection-reason").inner_text() == reason
    assert page.locator("#refire").count() == 0
    assert page.locator("#reject").count() == 0
    assert page.locator("#approve").count() == 0
    assert "Rejected conversions fire nothing more." in page.locator("#actions").inner_text()
    assert_nothing_leaked(page)
    shoot(page, "advertiser-conversion-rejected")

    conversion = Conversion.objects.get(pk=ours.conversion.pk)
    assert conversion.status == ConversionStatus.REJECTED
    assert conversion.rejection_reason == reason
    theirs.conversion.refresh_from_db()
    assert theirs.conversion.status == ConversionStatus.PENDING


def test_advertiser_sees_its_attempts_and_not_their_conversion(
    page, live_server, advertiser_login, ours, theirs, crossed
):
    sign_in(page, live_server, advertiser_login, "/portal/conversions/")

    page.locator("nav.nav").get_by_role("link", name="Postback attempts").click()
    page.wait_for_url("**/portal/logs/")
    page.wait_for_load_state("load")
    # Only its own offers' attempts: not theirs, nor the crossed one (their offer).
    assert log_ids(page) == [ours.log.pk]
    assert "tid-crossed" not in page.content()
    assert_nothing_leaked(page)
    shoot(page, "advertiser-logs")

    # Advertisers may re-fire their attempts, through the portal's own URL.
    page.click(f'tr[data-id="{ours.log.pk}"] a.row-link')
    page.wait_for_url(f"**/portal/logs/{ours.log.pk}/")
    refire_form = page.locator("form:has(#refire)")
    assert refire_form.get_attribute("action") == f"/portal/logs/{ours.log.pk}/refire/"
    assert page.locator("#conversion-link").get_attribute("href") == (
        f"/portal/conversions/{ours.conversion.pk}/"
    )
    assert_nothing_leaked(page)
    shoot(page, "advertiser-log-detail")

    # Their conversion, their attempt, the publishers' pages and staff pages: 404.
    for path in (
        f"/portal/conversions/{theirs.conversion.pk}/",
        f"/portal/logs/{theirs.log.pk}/",
        f"/portal/logs/{crossed.pk}/",
        "/portal/configs/",
        "/logs/",
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 404, path
        assert page.locator("h1").inner_text() == "Not found", path
        assert "theirs" not in page.content().lower(), path
    page.goto(f"{live_server.url}/portal/conversions/{theirs.conversion.pk}/")
    shoot(page, "advertiser-404")
