"""Ops in a real browser on the postback config form: type a URL template, watch the
preview, insert a macro by clicking it. The preview is rendered by the server; nothing is
sent anywhere."""

import pytest

from postbacks.models import PostbackConfig

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_page(page, live_server, django_user_model):
    django_user_model.objects.create_superuser("ops", password="s3cret-pass")
    page.goto(f"{live_server.url}/admin/login/?next=/admin/postbacks/postbackconfig/add/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "s3cret-pass")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/postbacks/postbackconfig/add/")
    return page


def test_typing_a_template_updates_the_preview(admin_page, publisher, screenshot_dir):
    page = admin_page
    preview_url = page.locator("#preview-url")
    assert "Type a URL template" in page.locator("#preview-problems").inner_text()

    page.locator("#id_url").type("https://pub.example/pb?tid={transaction_id}&s1=")
    page.wait_for_function(
        "() => document.getElementById('preview-url').textContent.includes('TEST0000')"
    )
    assert preview_url.inner_text() == "https://pub.example/pb?tid=TEST00000000000000000000&s1="
    assert page.locator("#preview-method").inner_text() == "GET"
    assert page.locator("#preview-problems").inner_text() == "No problems found."

    # The cursor is at the end of the template: clicking {sub1} inserts it there.
    page.locator("#config-macros button[data-macro='{sub1}']").click()
    assert page.locator("#id_url").input_value() == (
        "https://pub.example/pb?tid={transaction_id}&s1={sub1}"
    )
    page.wait_for_function(
        "() => document.getElementById('preview-url')"
        ".textContent.endsWith('s1=sub%201%20%26%20more')"
    )

    # A macro that does not exist is named, with its closest known macro.
    page.locator("#id_url").press("End")
    page.locator("#id_url").type("&x={subb2}")
    problems = page.locator("#preview-problems")
    problems.get_by_text("Unknown macro {subb2}").wait_for()
    assert "did you mean {sub2}?" in problems.inner_text()

    for width in (1400, 800):
        page.set_viewport_size({"width": width, "height": 1000})
        page.screenshot(path=str(screenshot_dir / f"config-form-{width}.png"), full_page=True)
        page.locator(".request-layout").screenshot(
            path=str(screenshot_dir / f"config-form-{width}-request.png")
        )
    assert not PostbackConfig.objects.exists()  # the preview saves nothing


def test_the_macro_list_follows_the_type_and_targets_refusals(admin_page, screenshot_dir):
    page = admin_page
    rejection_reason = page.locator("#config-macros li", has_text="{rejection_reason}")
    page.select_option("#id_postback_type", "click")
    assert rejection_reason.is_hidden()
    assert "for Click postbacks" in page.locator("#macro-type").inner_text()
    page.select_option("#id_postback_type", "rejection")
    assert rejection_reason.is_visible()

    # A private literal address is refused in words; nothing connects to it.
    page.locator("#id_url").fill("http://10.0.0.1/pb?tid={transaction_id}")
    page.locator("#preview-problems").get_by_text("10.0.0.1 is a private address").wait_for()

    # POST with a JSON body: the body template gets macros at its cursor too.
    page.select_option("#id_method", "POST")
    page.select_option("#id_content_type", "json")
    page.locator("#id_url").fill("https://pub.example/pb")
    page.locator("#id_body").fill('{"reason": ""}')
    page.locator("#id_body").evaluate("body => body.setSelectionRange(12, 12)")
    page.locator("#config-macros button[data-macro='{rejection_reason}']").click()
    assert page.locator("#id_body").input_value() == '{"reason": "{rejection_reason}"}'
    page.wait_for_function(
        "() => document.getElementById('preview-body').textContent.includes('Test rejection')"
    )
    assert page.locator("#preview-content-type").inner_text() == "application/json"
    page.set_viewport_size({"width": 800, "height": 1000})
    page.screenshot(path=str(screenshot_dir / "config-form-post-800.png"), full_page=True)


def test_the_change_form_previews_the_saved_template_on_load(
    admin_page, live_server, make_config, screenshot_dir
):
    config = make_config("https://pub.example/pb?tid={transaction_id}&cur={currency}")
    page = admin_page

    page.goto(f"{live_server.url}/admin/postbacks/postbackconfig/{config.pk}/change/")

    page.wait_for_function(
        "() => document.getElementById('preview-url').textContent.endsWith('&cur=USD')"
    )
    assert page.locator("#preview-problems").inner_text() == "No problems found."
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.screenshot(path=str(screenshot_dir / "config-form-change-1400.png"), full_page=True)


def test_partner_rules_in_the_config_form_with_credentials_masked_and_history(
    admin_page, live_server, make_config, screenshot_dir
):
    config = make_config("https://pub.example/pb?tid={transaction_id}")
    page = admin_page
    change = f"{live_server.url}/admin/postbacks/postbackconfig/{config.pk}/change/"
    page.goto(change)

    rules = page.locator("fieldset.partner-rules")
    rules.locator("#id_accept_window_hours").fill("24")
    rules.locator("#id_success_rule").fill(
        '{"kind": "json_equals", "field": "status", "value": "ok"}'
    )
    rules.locator("#id_headers").fill('{"Authorization": "Bearer s3cr3t", "X-Partner": "integr8"}')
    rules.locator("#id_event_names").fill('{"purchase": "af_purchase"}')
    page.click("input[name=_continue]")
    page.wait_for_url(change)

    config.refresh_from_db()
    assert (config.accept_window_hours, config.version) == (24, 2)
    assert config.headers == {"Authorization": "Bearer s3cr3t", "X-Partner": "integr8"}
    shown = page.locator("#id_headers").input_value()
    assert "s3cr3t" not in shown and '"Authorization": "****"' in shown
    assert "s3cr3t" not in page.content()
    history = page.locator("table.config-history")
    assert (
        "v2" in history.inner_text()
        and "accept_window_hours: null → 24" in history.inner_text().replace("\n", " ")
    )

    page.click("input[name=_continue]")  # saved as shown: **** keeps the real value
    page.wait_for_url(change)
    config.refresh_from_db()
    assert config.headers["Authorization"] == "Bearer s3cr3t" and config.version == 2
    for width in (1400, 800):
        page.set_viewport_size({"width": width, "height": 1000})
        page.locator("fieldset.partner-rules").screenshot(
            path=str(screenshot_dir / f"config-form-rules-{width}.png")
        )
        page.screenshot(
            path=str(screenshot_dir / f"config-form-history-{width}.png"), full_page=True
        )
