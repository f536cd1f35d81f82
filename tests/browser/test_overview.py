"""The delivery overview at `/` in a real browser: figures, their links into /logs/, the
empty state, Re-enable from *Needs attention* and Re-fire matching started from `/`.

Data goes through the real engine: conversions reported to /conversion/ are fired (tasks
run inline in tests) at a loopback receiver whose answers each test scripts.
"""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from postbacks.models import Delivery, DeliveryState, PostbackConfig, PostbackLog, Trigger
from tests.conftest import convert
from tests.delivery.receiver import Answer
from tests.refire_data import quiet_doorbell

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1400, 800)
# The group table's cells after the name: attempts, finished, first-attempt, eventual,
# then the failure classes.
FOUR_XX, FIVE_XX = 4, 5


@pytest.fixture
def signed_in(page, live_server, django_user_model):
    """The page, signed in as staff; returns a function that opens a path."""
    django_user_model.objects.create_user("ops", password="s3cret-pass", is_staff=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "s3cret-pass")
    page.click("button[type=submit]")
    page.wait_for_load_state()

    def open_path(path: str = "/") -> None:
        page.goto(f"{live_server.url}{path}")

    return open_path


@pytest.fixture
def traffic(client, advertiser_key, click, make_config, receiver):
    """Five conversions fired once each: 200, 404, 500, 503, 200."""
    config = make_config(receiver.url("/pb"), name="Traffic Co installs", max_attempts=1)
    receiver.answer(Answer(200), Answer(404), Answer(500), Answer(503), Answer(200))
    for order in range(5):
        convert(client, advertiser_key, transaction_id=click.transaction_id, order_id=order)
    assert PostbackLog.objects.count() == 5
    return config


def shoot(page, screenshot_dir, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(screenshot_dir / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def group_row(page, name: str):
    return page.locator("#groups tbody tr", has=page.locator("th", has_text=name))


def test_the_overview_shows_the_figures_names_and_chart(
    page, signed_in, traffic, publisher, screenshot_dir
):
    signed_in("/")

    tiles = page.locator(".tile")
    assert tiles.count() == 5
    assert tiles.nth(0).locator(".tile-value").inner_text() == "5"
    assert tiles.nth(0).locator(".tile-note").inner_text() == "3 failed"
    assert tiles.nth(1).locator(".tile-value").inner_text() == "40 %"
    row = group_row(page, publisher.name)
    assert row.locator("th").inner_text() == f"{publisher.name} #{publisher.pk}"
    cells = row.locator("td")
    assert cells.nth(0).inner_text() == "5"
    assert (cells.nth(FOUR_XX).inner_text(), cells.nth(FIVE_XX).inner_text()) == ("1", "2")
    chart = page.locator("svg.chart")
    assert chart.is_visible()
    assert chart.locator("rect.ok").count() and chart.locator("rect.bad").count()
    assert chart.locator("text.tick").count() >= 3  # the axis and time labels
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert no_horizontal_overflow(page), f"the page scrolls sideways at {width} px"
    shoot(page, screenshot_dir, "overview")


def test_a_fresh_install_says_what_to_do_first(page, signed_in, screenshot_dir):
    signed_in("/")

    empty = page.locator("#empty-state")
    assert empty.is_visible()
    assert "Nothing to watch yet" in empty.inner_text()
    assert "postback config" in empty.inner_text() and "seed_demo" in empty.inner_text()
    # No window or grouping controls, tiles or tables without anything behind them.
    for absent in (".overview-controls", ".tiles", "#groups", "svg.chart", "#needs-attention"):
        assert page.locator(absent).count() == 0, absent
    hrefs = empty.locator("a").evaluate_all("links => links.map(link => link.pathname)")
    assert hrefs == ["/admin/", "/admin/postbacks/postbackconfig/add/", "/logs/"]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert no_horizontal_overflow(page), f"the page scrolls sideways at {width} px"
    shoot(page, screenshot_dir, "overview-empty")


def test_a_failure_figure_opens_the_logs_with_its_filters(page, signed_in, traffic, publisher):
    signed_in("/")

    group_row(page, publisher.name).locator("td").nth(FIVE_XX).locator("a").click()
    page.wait_for_url("**/logs/?*")

    query = parse_qs(urlsplit(page.url).query)
    after = query.pop("created_after")
    assert query == {
        "publisher_id": [str(publisher.pk)],
        "status": ["failed"],
        "error__contains": ["HTTP 5"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", after[0])
    shown = [
        (
            row.locator(".f-column").input_value(),
            row.locator(".f-operator").input_value(),
            row.locator(".f-value").input_value(),
        )
        for row in page.locator("#filter-rows .filter-row").all()
    ]
    assert sorted(shown) == [
        ("error", "contains", "HTTP 5"),
        ("publisher_id", "is", str(publisher.pk)),
        ("status", "is", "failed"),
    ]
    assert page.locator("#created_after").input_value() == after[0]
    assert page.locator("#created_before").input_value() == ""
    errors = page.locator("#log-table tbody tr[data-id] td:nth-child(14)").all_inner_texts()
    assert sorted(errors) == ["HTTP 500", "HTTP 503"]


def test_an_auto_disabled_config_is_re_enabled_from_needs_attention(
    page, signed_in, client, advertiser_key, click, make_config, receiver, screenshot_dir
):
    config = make_config(
        receiver.url("/pb"), name="Broken endpoint", max_attempts=1, disable_after_failures=2
    )
    receiver.answer(Answer(500), Answer(500))
    for order in range(2):
        convert(client, advertiser_key, transaction_id=click.transaction_id, order_id=order)
    config.refresh_from_db()
    assert config.enabled is False  # the engine disabled it (postbacks.attempts.auto_disable)
    signed_in("/")

    attention = page.locator("#needs-attention")
    re_enable = page.get_by_role("button", name="Re-enable")
    item = attention.locator(".attention-list li", has=re_enable)
    assert "Broken endpoint" in item.inner_text()
    assert f"#{config.pk}" in item.inner_text()
    assert "Disabled after 2 consecutive failed deliveries." in item.inner_text()
    since = f"{timezone.now():%Y-%m-%d}"
    assert re.search(rf"{since} \d\d:\d\d UTC", item.inner_text())  # since when
    shoot(page, screenshot_dir, "overview-attention")

    item.locator("button").click()
    page.wait_for_load_state()

    assert urlsplit(page.url).path == "/"
    config.refresh_from_db()
    assert (config.enabled, config.consecutive_failures, config.disabled_reason) == (True, 0, "")
    message = page.locator(".messages .message-success")
    assert "“Broken endpoint” is enabled again" in message.inner_text()
    assert re_enable.count() == 0
    assert "Disabled after repeated failures" not in page.locator("main").inner_text()
    # Its two deliveries still show as used up, linking to their attempts.
    assert "2 failed for good" in page.locator("#needs-attention").inner_text()


def test_re_fire_matching_from_a_failure_figure(page, signed_in, traffic, publisher):
    failed = set(
        Delivery.objects.filter(
            state=DeliveryState.FAILED, last_response_code__gte=500
        ).values_list("pk", flat=True)
    )
    assert len(failed) == 2
    quiet_doorbell()  # re-opened, not sent: the test reads the re-opened state
    signed_in("/")

    group_row(page, publisher.name).locator("td").nth(FIVE_XX).locator("a").click()
    page.wait_for_url("**/logs/?*")
    page.click("#refire-matching")
    page.wait_for_url("**/logs/refire/?*")
    assert page.locator("#refire-count").inner_text() == "2"
    page.click("#confirm-refire")
    page.wait_for_url(re.compile(r".*/logs/refire/\d+/$"))
    page.wait_for_function("() => document.getElementById('job-state').textContent === 'Done'")

    assert page.locator("#job-reopened").inner_text() == "2"
    reopened = Delivery.objects.filter(
        state=DeliveryState.PENDING, next_trigger=Trigger.REFIRE, refire_requested=True
    )
    assert set(reopened.values_list("pk", flat=True)) == failed
    # The 404 was not in the figure: it stays failed, and the successes stay succeeded.
    assert Delivery.objects.filter(state=DeliveryState.FAILED).count() == 1
    assert Delivery.objects.filter(state=DeliveryState.SUCCEEDED).count() == 2
    assert PostbackConfig.objects.get().enabled


@pytest.fixture
def long_logs():
    """Twenty attempts with the long URLs, errors and responses real publishers produce."""
    now = timezone.now()
    errors = [
        "HTTP 503",
        "Connection refused by 127.0.0.1:9 (the publisher's server is down or not listening)",
        "Timeout after 10 s waiting for the response headers from the publisher's endpoint",
        "Blocked: postback-gateway.traffic-partner.example resolves to 10.0.0.8, a private "
        "address (SSRF guard)",
        "Rejected by publisher: the success rule expects “status=ok” in the body, got "
        "“status=duplicate; reason=transaction already recorded for this click”",
    ]
    return PostbackLog.objects.bulk_create(
        PostbackLog(
            created=now - timedelta(minutes=20 - index),
            status="failed" if index % 3 else "success",
            postback_name=f"Traffic partner {index % 4} purchases"
            + (" (server-to-server, EU region)" if index % 4 == 3 else ""),
            postback_type="conversion",
            offer_id=1000 + index,
            publisher_id=70 + index % 4,
            transaction_id=f"4f1d2c0e-9b7a-4c1e-8f00-{index:012d}",
            response_code=0 if index % 3 else 200,
            url=f"https://postback-gateway.traffic-partner.example/v2/conversions/track?"
            f"click_id=4f1d2c0e-{index}&goal=purchase&amount=19.99&currency=USD&sub1=campaign-"
            + "spring-sale-2026-"
            * 4,
            error="" if index % 3 == 0 else errors[index % len(errors)],
            server_response="<!DOCTYPE html><html><head><title>503 Service Unavailable</title>"
            "</head><body><h1>Service Unavailable</h1><p>The server is temporarily unable "
            "to service your request due to maintenance downtime.</p></body></html>",
            attempt=1 + index % 3,
            duration_ms=10_000 if index % 5 == 2 else 84,
        )
        for index in range(20)
    )


def test_the_log_list_reads_at_ops_widths(page, signed_in, long_logs, screenshot_dir):
    """Long URLs and errors are cut (a click shows them whole): at 1400 px every column is
    in view; at 800 px the table scrolls sideways in its own box, never the page."""
    signed_in("/logs/")

    assert page.locator("#log-table tbody tr[data-id]").count() == 20
    table_box = page.locator(".table-wrap")
    fits = "box => box.scrollWidth <= box.clientWidth"
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert no_horizontal_overflow(page), f"the page scrolls sideways at {width} px"
        page.screenshot(path=str(screenshot_dir / f"logs-long-{width}.png"), full_page=True)
    assert not table_box.evaluate(fits)  # 800 px: the box scrolls, Time stays on the left
    table_box.evaluate("box => box.scrollTo(box.scrollWidth, 0)")
    assert page.locator("#log-table tbody tr td:first-child").first.is_visible()
    page.screenshot(path=str(screenshot_dir / "logs-long-800-scrolled.png"))
    page.set_viewport_size({"width": 1400, "height": 900})
    assert table_box.evaluate(fits), "the log table needs sideways scrolling at 1400 px"
