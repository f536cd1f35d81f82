"""Every page works under the Content-Security-Policy (SPEC §14): no page of ours, of the
admin or of the API docs runs an inline script or trips the policy."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/",
    "/logs/",
    "/alerts/",
    "/reports/reconciliation/",
    "/reports/reconciliation/match/",
    "/admin/",
    "/admin/postbacks/postbackconfig/add/",
    "/api/v1/docs/",
    "/api/v1/redoc/",
    "/api/v1/",
]


def test_no_page_trips_the_policy(page, live_server, django_user_model, make_config):
    make_config("http://127.0.0.1:9/pb")
    django_user_model.objects.create_superuser("ops", password="s3cret-pass")
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "s3cret-pass")
    page.click("button[type=submit]")
    page.wait_for_load_state("load")

    for path in PAGES:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        if path == "/api/v1/docs/":  # Swagger UI started from its own script file
            page.locator(".swagger-ui .info").wait_for()

    # Redoc asks Google Fonts and its CDN for fonts and a logo: blocked on purpose (no
    # page calls a third party), and it renders without them.
    third_party = ("fonts.googleapis.com", "cdn.redoc.ly")
    assert [text for text in violations if not any(host in text for host in third_party)] == []
