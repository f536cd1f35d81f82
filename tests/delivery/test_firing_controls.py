"""Per-config firing controls: pending conversions, a delay, auto-disable and re-enable."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from offers.models import Conversion
from postbacks.models import Delivery, PostbackConfig, PostbackLog
from postbacks.services import approve_conversion
from tests.conftest import convert
from tests.delivery.conftest import fire_due_now
from tests.delivery.receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)


def test_pending_fires_only_configs_that_ask_for_it(
    client, click, advertiser_key, make_config, receiver
):
    make_config(receiver.url("/approved-only"))
    make_config(receiver.url("/also-pending"), fire_on_pending=True)

    convert(client, advertiser_key, transaction_id=click.transaction_id, status="pending")

    assert [request.path for request in receiver.wait_for(1)] == ["/also-pending"]
    approve_conversion(Conversion.objects.get())
    assert sorted(request.path for request in receiver.wait_for(2)) == [
        "/also-pending",
        "/approved-only",
    ]


def test_delay_before_the_first_attempt(client, click, advertiser_key, make_config, receiver):
    make_config(receiver.url("/pb"), delay_seconds=600)
    before = timezone.now()

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    delivery = Delivery.objects.get()
    assert delivery.next_attempt_at >= before + timedelta(seconds=600)
    assert receiver.requests == [] and delivery.attempts == 0

    fire_due_now()  # ten minutes later

    assert len(receiver.wait_for(1)) == 1
    assert PostbackLog.objects.get().trigger == "automatic"


def fail_deliveries(client, advertiser_key, offer, publisher, count):
    from offers.models import Click

    for _ in range(count):
        click = Click.objects.create(offer=offer, publisher=publisher)
        convert(client, advertiser_key, transaction_id=click.transaction_id)


def test_auto_disable_after_n_failed_deliveries(
    client, offer, publisher, advertiser_key, make_config, receiver
):
    receiver.default = Answer(404, "no such endpoint")
    config = make_config(receiver.url("/pb"), disable_after_failures=3)

    fail_deliveries(client, advertiser_key, offer, publisher, 2)
    config.refresh_from_db()
    assert (config.enabled, config.consecutive_failures, mail.outbox) == (True, 2, [])

    fail_deliveries(client, advertiser_key, offer, publisher, 1)

    config.refresh_from_db()
    assert config.enabled is False
    assert "Disabled after 3 consecutive failed deliveries" in config.disabled_reason
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@example.com"]
    assert config.name in mail.outbox[0].subject and "disabled" in mail.outbox[0].subject

    fail_deliveries(client, advertiser_key, offer, publisher, 1)  # disabled: not fired
    assert len(receiver.requests) == 3


def test_a_success_resets_the_count(
    client, offer, publisher, advertiser_key, make_config, receiver
):
    config = make_config(receiver.url("/pb"), disable_after_failures=2)
    receiver.answer(Answer(400))

    fail_deliveries(client, advertiser_key, offer, publisher, 2)  # 400, then 200

    config.refresh_from_db()
    assert (config.enabled, config.consecutive_failures) == (True, 0)


def test_zero_means_never_disable(client, offer, publisher, advertiser_key, make_config, receiver):
    receiver.default = Answer(410)
    config = make_config(receiver.url("/pb"), disable_after_failures=0)

    fail_deliveries(client, advertiser_key, offer, publisher, 12)

    config.refresh_from_db()
    assert (config.enabled, config.consecutive_failures) == (True, 12)
    assert mail.outbox == []


def test_retries_count_as_one_failed_delivery(client, click, advertiser_key, make_config, receiver):
    receiver.default = Answer(500)
    config = make_config(receiver.url("/pb"), max_attempts=3, disable_after_failures=2)

    convert(client, advertiser_key, transaction_id=click.transaction_id)
    fire_due_now()
    config.refresh_from_db()
    assert config.consecutive_failures == 0  # still retrying: not a failed delivery yet
    fire_due_now()

    config.refresh_from_db()
    assert (config.enabled, config.consecutive_failures) == (True, 1)


def test_pending_deliveries_of_a_disabled_config_are_cancelled(
    client, click, advertiser_key, make_config, receiver
):
    config = make_config(receiver.url("/pb"), delay_seconds=60)
    convert(client, advertiser_key, transaction_id=click.transaction_id)
    PostbackConfig.objects.filter(pk=config.pk).update(enabled=False)

    fire_due_now()

    delivery = Delivery.objects.get()
    assert delivery.state == "cancelled" and "disabled" in delivery.last_error
    assert receiver.requests == []


def test_re_enabling_in_the_admin_resets_failures(admin_client, make_config, receiver):
    config = make_config(receiver.url("/pb"), name="Broken")
    PostbackConfig.objects.filter(pk=config.pk).update(
        enabled=False, consecutive_failures=10, disabled_reason="Disabled after 10 …"
    )
    url = f"/admin/postbacks/postbackconfig/{config.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(enabled="on", offer="", event="")

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    config.refresh_from_db()
    assert (config.enabled, config.consecutive_failures, config.disabled_reason) == (True, 0, "")


def test_enable_action_resets_failures(admin_client, make_config, receiver):
    config = make_config(receiver.url("/pb"))
    PostbackConfig.objects.filter(pk=config.pk).update(
        enabled=False, consecutive_failures=10, disabled_reason="Disabled"
    )

    admin_client.post(
        "/admin/postbacks/postbackconfig/",
        {"action": "enable_configs", "_selected_action": [config.pk]},
    )

    config.refresh_from_db()
    assert (config.enabled, config.consecutive_failures, config.disabled_reason) == (True, 0, "")
