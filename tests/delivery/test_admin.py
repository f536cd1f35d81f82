"""Ops in the admin: Send test (preview, then result) and Rotate signing secret."""

import pytest
from standardwebhooks.webhooks import Webhook

from postbacks.models import PostbackConfig, PostbackLog, new_secret
from tests.delivery.conftest import admin_config_form
from tests.delivery.receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)


def send_test_url(config) -> str:
    return f"/admin/postbacks/postbackconfig/{config.pk}/send-test/"


def test_send_test_previews_with_sample_values(admin_client, make_config, receiver):
    config = make_config(
        receiver.url("/pb?tid={transaction_id}&s1={sub1}"),
        method="POST",
        content_type="json",
        body='{"payout": "{payout}"}',
        secret=new_secret(),
    )

    page = admin_client.get(send_test_url(config))

    assert page.status_code == 200
    html = page.content.decode()
    assert receiver.url("/pb?tid=TEST00000000000000000000&amp;s1=sub%201%20%26%20more") in html
    assert "{&quot;payout&quot;: &quot;1&quot;}" in html
    # Named like a credential (SPEC §12): shown masked, sent for real.
    assert "webhook-signature" in html and "****" in html and "v1," not in html
    assert receiver.requests == [] and not PostbackLog.objects.exists()  # nothing sent yet


def test_send_test_sends_and_shows_the_result(admin_client, make_config, receiver):
    secret = new_secret()
    config = make_config(receiver.url("/pb?tid={transaction_id}"), secret=secret)
    receiver.answer(Answer(400, "unknown transaction"))

    page = admin_client.post(send_test_url(config))

    assert page.status_code == 200
    log = PostbackLog.objects.get()
    assert (log.trigger, log.status, log.response_code, log.error) == (
        "test",
        "failed",
        400,
        "HTTP 400",
    )
    assert log.config == config and log.delivery is None
    html = page.content.decode()
    assert "HTTP 400" in html and "unknown transaction" in html and f"/logs/{log.pk}/" in html
    request = receiver.wait_for(1)[0]
    headers = {
        name: request.header(name)
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
    }
    Webhook(secret).verify(receiver.url(request.path), headers, json_parse=False)


def test_send_test_is_linked_from_the_config_and_the_list(admin_client, make_config, receiver):
    config = make_config(receiver.url("/pb"))

    change = admin_client.get(f"/admin/postbacks/postbackconfig/{config.pk}/change/")
    action = admin_client.post(
        "/admin/postbacks/postbackconfig/",
        {"action": "send_test_action", "_selected_action": [config.pk]},
    )

    assert send_test_url(config) in change.content.decode()
    assert action.status_code == 302 and action["Location"] == send_test_url(config)


def test_send_test_needs_staff(client, make_config, receiver):
    config = make_config(receiver.url("/pb"))

    response = client.post(send_test_url(config))

    assert response.status_code == 302 and "/login/" in response["Location"]
    assert receiver.requests == []


def test_send_test_of_an_unknown_config_is_404(admin_client):
    assert admin_client.get("/admin/postbacks/postbackconfig/999999/send-test/").status_code == 404


def test_rotate_action_keeps_the_old_secret_for_the_grace_period(admin_client, make_config):
    old = new_secret()
    config = make_config("http://127.0.0.1:9/pb", secret=old)

    admin_client.post(
        "/admin/postbacks/postbackconfig/",
        {"action": "rotate_signing_secret", "_selected_action": [config.pk]},
    )

    config.refresh_from_db()
    assert config.secret.startswith("whsec_") and config.secret != old
    assert config.previous_secret == old and config.previous_secret_expires is not None


def test_secret_is_shown_to_staff(admin_client, make_config):
    config = make_config("http://127.0.0.1:9/pb", secret=new_secret())

    page = admin_client.get(f"/admin/postbacks/postbackconfig/{config.pk}/change/")

    assert config.secret in page.content.decode()


def test_admin_refuses_a_forbidden_literal_address(admin_client, publisher):
    response = admin_client.post(
        "/admin/postbacks/postbackconfig/add/",
        admin_config_form(publisher, name="Metadata", url="http://169.254.169.254/latest"),
    )

    assert response.status_code == 200
    assert "169.254.169.254 is a link-local address" in response.content.decode()
    assert not PostbackConfig.objects.exists()


def test_deliveries_list_shows_state_and_next_attempt(
    admin_client, client, click, advertiser_key, make_config, receiver
):
    from postbacks.models import Delivery
    from tests.conftest import convert

    make_config(receiver.url("/pb"))
    receiver.answer(Answer(503, "busy"))
    convert(client, advertiser_key, transaction_id=click.transaction_id)
    delivery = Delivery.objects.get()

    listing = admin_client.get("/admin/postbacks/delivery/")
    detail = admin_client.get(f"/admin/postbacks/delivery/{delivery.pk}/change/")

    assert listing.status_code == 200 and detail.status_code == 200
    assert "HTTP 503" in listing.content.decode()
    assert delivery.webhook_id in detail.content.decode()
