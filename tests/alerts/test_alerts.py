"""Alerts end to end: real loopback receivers for the postbacks and the webhook, a real
SMTP server for the mail, and the evaluation the worker runs every minute."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from alerts.evaluate import evaluate_rules
from alerts.models import Alert, AlertRule
from alerts.notices import send_due_notices
from alerts.tasks import evaluate
from offers.models import Click
from postbacks.attempts import auto_disable
from postbacks.models import Delivery
from postbacks.services import enable_config
from tests.conftest import convert
from tests.delivery.receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)


def send_conversions(client, key, offer, publisher, count):
    for _ in range(count):
        click = Click.objects.create(offer=offer, publisher=publisher)
        convert(client, key, transaction_id=click.transaction_id)


def make_rule(config=None, **fields):
    AlertRule.objects.all().delete()  # only this test's rule tells anyone
    fields.setdefault("name", "Publisher endpoint down")
    fields.setdefault("min_attempts", 5)
    return AlertRule.objects.create(config=config, **fields)


def webhook_bodies(hook) -> list[dict]:
    return [json.loads(request.body) for request in hook.requests]


@pytest.fixture
def hook(make_receiver):
    return make_receiver()


def test_a_failing_config_opens_one_alert_and_resolves_once(
    client, offer, publisher, advertiser_key, make_config, receiver, hook, smtp
):
    receiver.default = Answer(400, "bad click id")
    config = make_config(receiver.url("/pb"), disable_after_failures=0)
    rule = make_rule(config, emails=["oncall@example.com"], webhook_url=hook.url("/hook"))

    send_conversions(client, advertiser_key, offer, publisher, 5)
    evaluate()

    alert = Alert.objects.get()
    assert (alert.state, alert.kind, alert.rule, alert.config) == (
        "open",
        "condition",
        rule,
        config,
    )
    assert "first-attempt success 0 % (0 of 5)" in alert.summary
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["X-Rcpt-To"] == "oncall@example.com"
    assert smtp.subjects()[0].startswith("[Integr8] Alert: Postback 'Publisher postback'")
    [opened] = hook.wait_for(1)
    body = json.loads(opened.body)
    assert (body["state"], body["alert"]["id"], body["rule"]["id"]) == ("open", alert.pk, rule.pk)
    assert body["text"].startswith("*Alert*: Postback 'Publisher postback'")
    assert body["summary"] == alert.summary
    Webhook(rule.webhook_secret).verify(opened.body, opened.headers)

    send_conversions(client, advertiser_key, offer, publisher, 2)  # still failing
    evaluate()
    evaluate()
    assert Alert.objects.count() == 1 and len(smtp.messages) == 1 and len(hook.requests) == 1

    receiver.default = Answer(200)
    send_conversions(client, advertiser_key, offer, publisher, 27)  # 27 of 34: 79 %
    evaluate()
    assert Alert.objects.get().state == "open"
    send_conversions(client, advertiser_key, offer, publisher, 1)  # 28 of 35: 80 %
    evaluate()

    alert.refresh_from_db()
    assert alert.state == "resolved" and "first-attempt success 80 % (28 of 35)" in (
        alert.resolution
    )
    assert len(smtp.messages) == 2 and smtp.subjects()[1].startswith("[Integr8] Resolved:")
    assert [body["state"] for body in webhook_bodies(hook)] == ["open", "resolved"]
    Webhook(rule.webhook_secret).verify(hook.requests[1].body, hook.requests[1].headers)
    evaluate()
    assert len(smtp.messages) == 2 and len(hook.requests) == 2
    alert.refresh_from_db()
    assert (
        "open notice: email to oncall@example.com sent; webhook to 127.0.0.1 answered HTTP 200"
        in (alert.notices)
    )


def test_an_alert_opens_again_after_it_resolved(
    client, offer, publisher, advertiser_key, make_config, receiver, smtp
):
    receiver.default = Answer(400)
    config = make_config(receiver.url("/pb"), disable_after_failures=0)
    make_rule(config, min_attempts=2)
    send_conversions(client, advertiser_key, offer, publisher, 2)
    evaluate()
    evaluate_rules(timezone.now() + timedelta(minutes=30))  # the failures left the window
    send_due_notices()
    first = Alert.objects.get()
    assert first.state == "resolved" and "no attempts over the last 15 min" in first.resolution

    send_conversions(client, advertiser_key, offer, publisher, 2)
    evaluate()
    assert list(Alert.objects.values_list("state", flat=True)) == ["open", "resolved"]
    assert len(smtp.messages) == 3  # open, resolved, open again


def test_auto_disable_is_an_event_resolved_by_re_enabling(
    client, offer, publisher, advertiser_key, make_config, receiver, hook, smtp
):
    receiver.default = Answer(404)
    config = make_config(receiver.url("/pb"), disable_after_failures=2)
    rule = make_rule(emails=["oncall@example.com"], webhook_url=hook.url("/hook"))

    send_conversions(client, advertiser_key, offer, publisher, 2)

    alert = Alert.objects.get()
    assert (alert.kind, alert.state, alert.rule) == ("config_disabled", "open", None)
    assert "was disabled: Disabled after 2 consecutive failed deliveries" in alert.summary
    assert len(smtp.messages) == 1 and "was disabled" in smtp.subjects()[0]
    assert webhook_bodies(hook)[0]["rule"] is None
    Webhook(rule.webhook_secret).verify(hook.requests[0].body, hook.requests[0].headers)

    config.refresh_from_db()
    enable_config(config)

    alert.refresh_from_db()
    assert (alert.state, alert.resolution) == ("resolved", "The config was re-enabled.")
    assert len(smtp.messages) == 2 and [b["state"] for b in webhook_bodies(hook)] == [
        "open",
        "resolved",
    ]


def test_deliveries_that_use_up_their_attempts_alert_once_until_one_succeeds(
    client, offer, publisher, advertiser_key, make_config, receiver, smtp
):
    receiver.default = Answer(500, "down")
    config = make_config(receiver.url("/pb"), max_attempts=1, disable_after_failures=0)
    make_rule()

    send_conversions(client, advertiser_key, offer, publisher, 3)

    alert = Alert.objects.get()
    assert (alert.kind, alert.state, alert.count) == ("deliveries_exhausted", "open", 3)
    assert alert.config == config and "last error: HTTP 500" in alert.summary
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["X-Rcpt-To"] == "ops@example.com"  # the rule names nobody

    receiver.default = Answer(200)
    send_conversions(client, advertiser_key, offer, publisher, 1)

    alert.refresh_from_db()
    assert alert.state == "resolved" and "succeeded again" in alert.resolution
    assert len(smtp.messages) == 2


def test_a_delivery_waiting_too_long_alerts(make_config, receiver, smtp):
    config = make_config(receiver.url("/pb"))
    make_rule(config, condition="oldest_due_older_than", threshold=10)
    long_ago = timezone.now() - timedelta(minutes=25)
    delivery = Delivery.objects.create(
        config=config, postback_type="conversion", next_attempt_at=long_ago, locked_until=long_ago
    )

    evaluate()

    alert = Alert.objects.get()
    assert "the oldest due delivery has waited 25 min" in alert.summary
    Delivery.objects.filter(pk=delivery.pk).update(state="succeeded")
    evaluate()
    alert.refresh_from_db()
    assert (alert.state, alert.resolution) == ("resolved", "Cleared: no delivery is due.")
    assert len(smtp.messages) == 2


def test_a_blocked_webhook_is_refused_when_sent(
    settings, make_config, make_receiver, receiver, smtp
):
    blocked_hook = make_receiver("127.0.0.2")
    config = make_config(receiver.url("/pb"))
    make_rule(config, webhook_url=blocked_hook.url("/services/T000/B000/s3cr3t-token"))
    settings.POSTBACK_ALLOW_NETWORKS = ["127.0.0.1/32"]

    auto_disable(config, "Test")

    alert = Alert.objects.get()
    assert "webhook to 127.0.0.2 failed: Blocked: 127.0.0.2 is" in alert.notices
    assert "s3cr3t" not in alert.notices
    assert blocked_hook.requests == []
    assert len(smtp.messages) == 1  # the mail still went


def test_a_down_mail_server_is_noted_and_the_webhook_still_goes(
    settings, make_config, receiver, hook
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    config = make_config(receiver.url("/pb"))
    make_rule(config, webhook_url=hook.url("/hook"))
    auto_disable(config, "Test")

    notices = Alert.objects.get().notices
    assert "email failed:" in notices and "webhook to 127.0.0.1 answered HTTP 200" in notices
    assert len(hook.wait_for(1)) == 1
