"""Re-fire matching in a real browser: the count follows the checkbox, progress polls."""

import pytest

from postbacks.models import RefireJob
from tests.refire_data import delivered, quiet_doorbell

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, django_user_model, path: str) -> None:
    django_user_model.objects.create_user("ops", password="s3cret-pass", is_staff=True)
    page.goto(f"{live_server.url}/accounts/login/?next={path}")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "s3cret-pass")
    page.click("button[type=submit]")
    # The table is in the DOM before the deferred scripts run: wait for them, or a
    # click can land before its listener is there (seen on a loaded CI machine).
    page.wait_for_load_state("load")


def test_from_the_filtered_list_to_a_finished_job(
    page, live_server, django_user_model, make_config, click, screenshot_dir
):
    config = make_config("http://127.0.0.1:9/pb", name="Flaky", postback_type="click")
    delivered(config, click, 3)
    delivered(config, click, 2, state="succeeded")
    quiet_doorbell()  # re-opened, not sent: no receiver in this test
    sign_in(page, live_server, django_user_model, "/logs/%3Fpostback_name%3DFlaky")

    page.click("#refire-matching")
    page.wait_for_url("**/logs/refire/?postback_name=Flaky")
    assert page.locator("#refire-count").inner_text() == "3"
    page.check("#include-succeeded")
    assert page.locator("#refire-count").inner_text() == "5"
    assert page.locator("#confirm-refire").is_enabled()
    page.screenshot(path=str(screenshot_dir / "refire-confirm.png"), full_page=True)
    page.click("#confirm-refire")

    job = RefireJob.objects.get()
    page.wait_for_url(f"**/logs/refire/{job.pk}/")
    assert page.locator("#job-state").inner_text() == "Done"
    assert page.locator("#job-reopened").inner_text() == "5"
    assert page.locator("#refired-attempts").is_visible()


def test_the_progress_bar_follows_the_job(page, live_server, django_user_model, screenshot_dir):
    job = RefireJob.objects.create(filters="status=failed", state="running", total=4000)
    sign_in(page, live_server, django_user_model, f"/logs/refire/{job.pk}/")
    page.wait_for_selector("#refire-job")
    assert not page.locator("#job-links").is_visible()

    RefireJob.objects.filter(pk=job.pk).update(done=1000)
    page.wait_for_function("() => document.getElementById('job-done').textContent === '1000'")
    assert page.locator("#job-percent").inner_text() == "25"
    page.screenshot(path=str(screenshot_dir / "refire-progress.png"), full_page=True)

    RefireJob.objects.filter(pk=job.pk).update(done=4000, reopened=3990, state="done")
    page.wait_for_selector("#job-links", state="visible")
    assert page.locator("#job-state").inner_text() == "Done"
    assert page.locator("#job-progress").evaluate("bar => bar.value") == 4000
