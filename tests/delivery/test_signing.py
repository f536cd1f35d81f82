"""Standard Webhooks signatures, checked with the public `standardwebhooks` package."""

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from postbacks.models import Delivery, new_secret
from postbacks.services import rotate_secret
from tests.conftest import convert
from tests.delivery.conftest import fire_due_now
from tests.delivery.receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)


def signed_headers(request) -> dict:
    return {
        name: request.header(name)
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
    }


def test_new_secrets_look_like_whsec():
    secret = new_secret()
    assert secret.startswith("whsec_") and len(secret) > 30
    Webhook(secret)  # the reference implementation accepts it
    assert new_secret() != secret


def test_get_is_signed_over_the_full_url(client, click, advertiser_key, make_config, receiver):
    secret = new_secret()
    make_config(receiver.url("/pb?tid={transaction_id}&s={sub1}&n={offer_name}"), secret=secret)

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    request = receiver.wait_for(1)[0]
    Webhook(secret).verify(receiver.url(request.path), signed_headers(request), json_parse=False)
    assert request.header("webhook-id") == Delivery.objects.get().webhook_id
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(
            receiver.url(request.path), signed_headers(request), json_parse=False
        )


def test_post_is_signed_over_the_body(client, click, advertiser_key, make_config, receiver):
    secret = new_secret()
    make_config(
        receiver.url("/pb"),
        method="POST",
        content_type="json",
        body='{"tid": "{transaction_id}", "payout": "{payout}"}',
        secret=secret,
    )

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    request = receiver.wait_for(1)[0]
    Webhook(secret).verify(request.body, signed_headers(request))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.body + b" ", signed_headers(request))


def test_webhook_id_is_stable_across_retries(client, click, advertiser_key, make_config, receiver):
    secret = new_secret()
    make_config(receiver.url("/pb"), secret=secret)
    receiver.answer(Answer(500), Answer(503))

    convert(client, advertiser_key, transaction_id=click.transaction_id)
    fire_due_now()
    fire_due_now()

    requests = receiver.wait_for(3)
    assert len({request.header("webhook-id") for request in requests}) == 1
    for request in requests:
        Webhook(secret).verify(
            receiver.url(request.path), signed_headers(request), json_parse=False
        )


def test_rotation_signs_with_both_secrets_during_grace(
    client, click, advertiser_key, make_config, receiver
):
    old = new_secret()
    config = make_config(receiver.url("/pb?tid={transaction_id}"), secret=old)
    new = rotate_secret(config)
    assert new != old and config.previous_secret == old
    assert config.previous_secret_expires > timezone.now() + timedelta(hours=23)

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    request = receiver.wait_for(1)[0]
    assert len(request.header("webhook-signature").split(" ")) == 2
    Webhook(old).verify(receiver.url(request.path), signed_headers(request), json_parse=False)
    Webhook(new).verify(receiver.url(request.path), signed_headers(request), json_parse=False)


def test_after_grace_only_the_new_secret_signs(
    client, click, advertiser_key, make_config, receiver
):
    old = new_secret()
    config = make_config(receiver.url("/pb"), secret=old)
    new = rotate_secret(config)
    config.previous_secret_expires = timezone.now() - timedelta(seconds=1)
    config.save()

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    request = receiver.wait_for(1)[0]
    Webhook(new).verify(receiver.url(request.path), signed_headers(request), json_parse=False)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(receiver.url(request.path), signed_headers(request), json_parse=False)


def test_unsigned_config_sends_no_signature(client, click, advertiser_key, make_config, receiver):
    make_config(receiver.url("/pb"))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert receiver.wait_for(1)[0].header("webhook-signature") is None


@pytest.mark.parametrize("secret", ["whsec_short", "not-a-secret", "whsec_!!!!"])
def test_malformed_secrets_are_refused_when_saved(publisher, secret):
    from django.core.exceptions import ValidationError

    from postbacks.models import PostbackConfig

    config = PostbackConfig(name="p", publisher=publisher, url="https://pb.example/", secret=secret)
    with pytest.raises(ValidationError) as error:
        config.full_clean()
    assert "whsec_" in " ".join(error.value.message_dict["secret"])
