"""What triggers deliveries, and what ops and advertisers do to them.

Deliveries are stored in the same transaction as the click or conversion that caused
them; the doorbell rings only after that transaction commits.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from offers.models import Click, Conversion, ConversionStatus
from postbacks.models import Delivery, DeliveryState, PostbackConfig, PostbackType

logger = logging.getLogger(__name__)


class TransitionError(Exception):
    """A status change that is not allowed from the current status (answered 409)."""


def ring_doorbell() -> None:
    """Wake a dispatcher once the current transaction commits."""
    transaction.on_commit(_ring)


def _ring() -> None:
    # The deliveries are committed: a broker that is down must not turn the caller's
    # answer into an error. The periodic sweep (and the next worker start) rings again.
    from postbacks.dispatch import wake_dispatcher

    try:
        wake_dispatcher()
    except Exception:
        logger.exception("could not ring the postback doorbell; the sweep will")


def _queue(configs, postback_type: str, click=None, conversion=None) -> list[Delivery]:
    now = timezone.now()
    deliveries = [
        Delivery(
            config=config,
            postback_type=postback_type,
            click=click,
            conversion=conversion,
            max_attempts=config.max_attempts,
            next_attempt_at=now + timedelta(seconds=config.delay_seconds),
            locked_until=now,
        )
        for config in configs
    ]
    Delivery.objects.bulk_create(deliveries)
    if deliveries:
        ring_doorbell()
    return deliveries


def queue_click_postbacks(click: Click, configs=None) -> list[Delivery]:
    """configs: the matching Click configs when the caller already has them (cached)."""
    if configs is None:
        configs = PostbackConfig.objects.matching(
            PostbackType.CLICK, click.publisher_id, click.offer_id
        )
    return _queue(configs, PostbackType.CLICK, click=click)


def _conversion_type(conversion: Conversion) -> str:
    return PostbackType.EVENT if conversion.event_id else PostbackType.CONVERSION


def _conversion_configs(conversion: Conversion):
    if conversion.publisher_id is None:
        return PostbackConfig.objects.none()
    return PostbackConfig.objects.matching(
        _conversion_type(conversion),
        conversion.publisher_id,
        conversion.offer_id,
        conversion.event_id,
    )


def queue_conversion_postbacks(conversion: Conversion, skip_configs=None) -> list[Delivery]:
    """Approved conversions fire every matching config; pending ones only fire_on_pending.

    skip_configs: config ids (or a values() queryset of them) that already have a delivery.
    """
    if conversion.status == ConversionStatus.REJECTED:
        return []
    configs = _conversion_configs(conversion)
    if skip_configs is not None:
        configs = configs.exclude(id__in=skip_configs)
    if conversion.status == ConversionStatus.PENDING:
        configs = configs.filter(fire_on_pending=True)
    return _queue(configs, _conversion_type(conversion), conversion=conversion)


def refire_conversion(conversion: Conversion, only_failed: bool = True) -> int:
    """Fire a conversion's postbacks again; returns how many deliveries are queued.

    With only_failed, deliveries that already succeeded are left alone. Deliveries still
    waiting for their next attempt are brought forward. Matching configs that have no
    delivery yet (added after the conversion) get one.
    """
    if conversion.status == ConversionStatus.REJECTED:
        return 0
    conversion_type = _conversion_type(conversion)
    existing = Delivery.objects.filter(conversion=conversion, postback_type=conversion_type)
    if only_failed:
        existing = existing.exclude(state=DeliveryState.SUCCEEDED)
    now = timezone.now()
    with transaction.atomic():
        queued = _reopen(existing.filter(config__enabled=True), now)
        known = Delivery.objects.filter(conversion=conversion).values("config_id")
        missing = queue_conversion_postbacks(conversion, skip_configs=known)
    if queued:
        ring_doorbell()
    return queued + len(missing)


def _reopen(deliveries, now) -> int:
    reopened = 0
    for delivery in deliveries.select_related("config"):
        delivery.state = DeliveryState.PENDING
        delivery.max_attempts = delivery.attempts + delivery.config.max_attempts
        delivery.next_attempt_at = now
        delivery.next_trigger = "refire"
        delivery.save(
            update_fields=["state", "max_attempts", "next_attempt_at", "next_trigger", "updated"]
        )
        reopened += 1
    return reopened


def reject_conversion(conversion: Conversion, reason: str) -> list[Delivery]:
    """Reject, cancel its postbacks that have not fired yet, and fire Rejection configs."""
    if conversion.status == ConversionStatus.REJECTED:
        raise TransitionError("The conversion is already rejected.")
    with transaction.atomic():
        conversion.status = ConversionStatus.REJECTED
        conversion.rejection_reason = reason
        conversion.save(update_fields=["status", "rejection_reason", "updated"])
        Delivery.objects.filter(
            conversion=conversion, state=DeliveryState.PENDING, attempts=0
        ).exclude(postback_type=PostbackType.REJECTION).update(
            state=DeliveryState.CANCELLED, last_error="Cancelled: conversion rejected"
        )
        if conversion.publisher_id is None:
            return []
        configs = PostbackConfig.objects.matching(
            PostbackType.REJECTION, conversion.publisher_id, conversion.offer_id
        )
        return _queue(configs, PostbackType.REJECTION, conversion=conversion)


def approve_conversion(conversion: Conversion) -> list[Delivery]:
    """Approve a pending conversion and fire the configs that waited for approval."""
    if conversion.status != ConversionStatus.PENDING:
        raise TransitionError(
            f"Only pending conversions can be approved; this one is {conversion.status}."
        )
    with transaction.atomic():
        conversion.status = ConversionStatus.APPROVED
        conversion.save(update_fields=["status", "updated"])
        known = Delivery.objects.filter(conversion=conversion).values("config_id")
        return queue_conversion_postbacks(conversion, skip_configs=known)


def refire_delivery(delivery: Delivery) -> bool:
    """Re-fire one delivery (from the log detail page); False if its config is disabled."""
    if not delivery.config.enabled:
        return False
    with transaction.atomic():
        reopened = _reopen(Delivery.objects.filter(pk=delivery.pk), timezone.now())
    if reopened:
        ring_doorbell()
    return bool(reopened)


def rotate_secret(config: PostbackConfig) -> str:
    """Give the config a new signing secret; the old one still signs during the grace period.

    Requests then carry both signatures (space-separated), so a publisher can switch its
    verifier at any time within POSTBACK_SECRET_GRACE_HOURS.
    """
    from django.conf import settings

    from postbacks.models import new_secret

    if config.secret:
        config.previous_secret = config.secret
        config.previous_secret_expires = timezone.now() + timedelta(
            hours=settings.POSTBACK_SECRET_GRACE_HOURS
        )
    config.secret = new_secret()
    config.save(update_fields=["secret", "previous_secret", "previous_secret_expires", "updated"])
    return config.secret


def send_test(config: PostbackConfig):
    """Fire the config once now with sample values; returns the logged attempt.

    Runs in the caller's process on purpose: ops wait for the answer of a test.
    """
    from logs.models import LogStatus, PostbackLog, Trigger
    from postbacks.attempts import build_request
    from postbacks.context import sample_context
    from postbacks.models import new_webhook_id
    from postbacks.transport import new_session, send

    context = sample_context(config)
    request = build_request(config, context, new_webhook_id())
    with new_session(1) as session:
        outcome = send(request, session)
    return PostbackLog.objects.create(
        status=LogStatus.SUCCESS if outcome.ok else LogStatus.FAILED,
        postback_name=config.name,
        postback_type=config.postback_type,
        # The config's own offer and event, never sample IDs that another advertiser owns.
        offer_id=config.offer_id,
        publisher_id=config.publisher_id,
        event_id=config.event_id,
        transaction_id=context["transaction_id"],
        response_code=outcome.response_code,
        url=outcome.url or request.url,
        error=outcome.error,
        server_response=outcome.server_response,
        method=request.method,
        attempt=1,
        duration_ms=outcome.duration_ms,
        trigger=Trigger.TEST,
        request_headers=request.headers,
        request_body=request.body,
        webhook_id=request.headers.get("webhook-id", ""),
        config=config,
    )
