"""Live mode of /logs/ in a real browser: new attempts appear without a reload."""

from urllib.parse import parse_qsl, urlsplit

import pytest

from postbacks.models import PostbackLog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HIDE_TAB = """() => {
  Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def new_log(**fields) -> PostbackLog:
    fields.setdefault("status", "failed")
    fields.setdefault("postback_name", "Install postback")
    return PostbackLog.objects.create(
        postback_type="conversion",
        offer_id=10,
        publisher_id=7,
        response_code=503,
        url="https://pub.example/pb",
        error="HTTP 503",
        **fields,
    )


def sign_in(page, live_server, django_user_model, path: str) -> None:
    django_user_model.objects.create_user("ops", password="s3cret-pass", is_staff=True)
    page.goto(f"{live_server.url}/accounts/login/?next={path}")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "s3cret-pass")
    page.click("button[type=submit]")
    page.wait_for_selector("#log-table")
    # The table is in the DOM before the deferred scripts run: wait for them, or a
    # click can land before its listener is there (seen on a loaded CI machine).
    page.wait_for_load_state("load")


def test_live_prepends_new_matching_rows_until_toggled_off(
    page, live_server, django_user_model, screenshot_dir
):
    shown = new_log(transaction_id="old")
    sign_in(page, live_server, django_user_model, "/logs/%3Fstatus%3Dfailed")
    assert not page.is_checked("#live-toggle")

    page.check("#live-toggle")
    page.wait_for_function("() => location.search.includes('live=1')")
    assert ("live", "1") in parse_qsl(urlsplit(page.url).query)
    new_log(status="success", transaction_id="not-matching")
    arrived = new_log(transaction_id="arrived", trigger="retry", attempt=2, duration_ms=1500)

    row = page.locator(f'#log-table tbody tr[data-id="{arrived.id}"]')
    row.wait_for()
    assert "is-new" in (row.get_attribute("class") or "")
    ids = page.locator("#log-table tbody tr[data-id]").evaluate_all(
        "rows => rows.map(row => Number(row.dataset.id))"
    )
    assert ids == [arrived.id, shown.id]  # the success row does not match status=failed
    assert "1.5 s" in row.inner_text()
    page.screenshot(path=str(screenshot_dir / "logs-live.png"), full_page=True)

    page.uncheck("#live-toggle")
    page.wait_for_function("() => !location.search.includes('live')")
    later = new_log(transaction_id="later")
    page.wait_for_timeout(4500)
    assert page.locator(f'tr[data-id="{later.id}"]').count() == 0


def test_live_from_the_url_and_paused_while_the_tab_is_hidden(page, live_server, django_user_model):
    new_log(transaction_id="old")
    sign_in(page, live_server, django_user_model, "/logs/%3Flive%3D1")
    assert page.is_checked("#live-toggle")
    page.wait_for_function("() => document.getElementById('live-status').textContent")

    page.evaluate(HIDE_TAB)
    assert "paused" in page.inner_text("#live-status")
    hidden = new_log(transaction_id="while-hidden")
    page.wait_for_timeout(4500)
    assert page.locator(f'tr[data-id="{hidden.id}"]').count() == 0
