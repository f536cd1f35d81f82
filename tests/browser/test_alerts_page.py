"""/alerts/ in a real browser: an alert opened by the engine and the rule evaluation,
its notices, the way into the logs, and the open alert on the overview."""

import pytest

from alerts.models import AlertRule
from alerts.tasks import evaluate
from tests.browser.test_overview import WIDTHS, no_horizontal_overflow, signed_in  # noqa: F401
from tests.conftest import convert
from tests.delivery.receiver import Answer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alerting(client, advertiser_key, click, make_config, receiver):
    """A config whose endpoint answers 500 to every postback, and a rule that noticed."""
    receiver.default = Answer(500, "upstream down")
    config = make_config(receiver.url("/pb"), name="Traffic Co installs", max_attempts=1)
    AlertRule.objects.all().delete()
    AlertRule.objects.create(name="Installs down", config=config, min_attempts=3)
    for order in range(3):
        convert(client, advertiser_key, transaction_id=click.transaction_id, order_id=order)
    evaluate()
    return config


def test_the_alert_page_and_its_way_into_the_logs(page, signed_in, alerting, screenshot_dir):  # noqa: F811
    signed_in("/alerts/")

    items = page.locator("#open-alerts .alert-item")
    assert items.count() == 2  # the rule's, and the deliveries that used up their attempts
    condition = items.filter(has_text="first-attempt success 0 % (0 of 3)")
    assert condition.count() == 1
    assert "rule Installs down" in condition.inner_text()
    assert "Traffic Co installs #" in condition.inner_text()
    condition.locator("summary", has_text="Notices sent").click()
    assert "email to ops@example.com sent" in condition.locator("pre.notices").inner_text()
    assert page.locator("#alert-rules").get_by_text("Installs down").count() == 1
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert no_horizontal_overflow(page)
        page.screenshot(path=str(screenshot_dir / f"alerts-{width}.png"), full_page=True)

    condition.get_by_role("link", name="Attempts in the logs →").click()
    page.wait_for_url("**/logs/?**")
    rows = page.locator("table.logs tbody tr")
    assert rows.count() == 3
    assert "HTTP 500" in rows.first.inner_text()


def test_the_open_alert_is_on_the_overview(page, signed_in, alerting):  # noqa: F811
    signed_in("/")

    alerts = page.locator("#attention-alerts li")
    assert alerts.count() == 2
    alerts.filter(has_text="first-attempt success").get_by_role("link").click()
    page.wait_for_url("**/alerts/#alert-*")
    assert page.locator(":target").count() == 1
