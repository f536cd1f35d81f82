"""Many deliveries behind log rows, made fast in bulk, for the Re-fire matching tests."""

from datetime import timedelta

from django.utils import timezone

from offers.models import Click
from postbacks.models import Delivery, Dispatcher, PostbackConfig, PostbackLog


def quiet_doorbell() -> Dispatcher:
    """A dispatcher that looks alive: re-opened deliveries wait until the test fires them."""
    return Dispatcher.objects.create(heartbeat=timezone.now() + timedelta(hours=1))


def delivered(
    config: PostbackConfig, click: Click, count: int, state: str = "failed", logs_each: int = 2
) -> list[Delivery]:
    """`count` click deliveries of `config` in `state`, each behind `logs_each` log rows."""
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            config=config,
            postback_type=config.postback_type,
            click=click,
            state=state,
            attempts=logs_each,
            max_attempts=logs_each,
            last_response_code=500,
        )
        for _ in range(count)
    )
    status = "success" if state == "succeeded" else "failed"
    PostbackLog.objects.bulk_create(
        PostbackLog(
            status=status,
            postback_name=config.name,
            postback_type=config.postback_type,
            offer_id=click.offer_id,
            publisher_id=click.publisher_id,
            transaction_id=click.transaction_id,
            response_code=200 if status == "success" else 500,
            url=config.url,
            error="" if status == "success" else "HTTP 500",
            attempt=attempt,
            delivery=delivery,
            config=config,
            click=click,
            webhook_id=delivery.webhook_id,
        )
        for delivery in deliveries
        for attempt in range(1, logs_each + 1)
    )
    return deliveries
