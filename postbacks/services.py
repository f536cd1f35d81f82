"""What triggers deliveries, and what ops and advertisers do to them.

Deliveries are stored in the same transaction as the click or conversion that caused
them; the doorbell rings only after that transaction commits.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from offers.models import Click, Conversion, ConversionStatus
from postbacks.attempts import Unsendable, build_request, log_row, sample_attempt
from postbacks.context import sample_context
from postbacks.dispatch import wake_dispatcher
from postbacks.models import (
    Delivery,
    DeliveryState,
    PostbackConfig,
    PostbackLog,
    PostbackType,
    Trigger,
    new_secret,
    new_webhook_id,
)
from postbacks.transport import Outcome, OutgoingRequest, new_session, send

logger = logging.getLogger(__name__)


class TransitionError(Exception):
    """A status change that is not allowed from the current status (answered 409)."""


def ring_doorbell() -> None:
    """Wake a dispatcher once the current transaction commits."""
    transaction.on_commit(_ring)


def _ring() -> None:
    # The deliveries are committed: a broker that is down must not turn the caller's
    # answer into an error. The periodic sweep (and the next worker start) rings again.
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
    """Fire a conversion's postbacks again; returns how many deliveries are queued."""
    return refire_conversions(Conversion.objects.filter(pk=conversion.pk), only_failed)


def refire_conversions(conversions: QuerySet[Conversion], only_failed: bool = True) -> int:
    """Fire these conversions' postbacks again; returns how many deliveries are queued.

    With only_failed, deliveries that already succeeded are left alone. Deliveries still
    waiting for their next attempt are brought forward; one in flight gets one more round
    after its current attempt. Matching configs that have no delivery yet (added after
    the conversion) get one. Rejected conversions fire nothing.
    """
    conversions = conversions.exclude(status=ConversionStatus.REJECTED)
    deliveries = Delivery.objects.filter(
        conversion__in=conversions.values("pk"), config__enabled=True
    ).exclude(postback_type=PostbackType.REJECTION)
    if only_failed:
        deliveries = deliveries.exclude(state=DeliveryState.SUCCEEDED)
    with transaction.atomic():
        queued = _reopen(deliveries)
        for conversion in conversions.select_related("event"):
            known = Delivery.objects.filter(conversion=conversion).values("config_id")
            queued += len(queue_conversion_postbacks(conversion, skip_configs=known))
    if queued:
        ring_doorbell()
    return queued


def refire_delivery(delivery: Delivery) -> bool:
    """Re-fire one delivery (from the log detail page); False if its config is disabled."""
    with transaction.atomic():
        reopened = _reopen(Delivery.objects.filter(pk=delivery.pk, config__enabled=True))
    if reopened:
        ring_doorbell()
    return bool(reopened)


def _reopen(deliveries: QuerySet[Delivery]) -> int:
    """One UPDATE: a new round of the config's max attempts, due now, trigger refire.

    refire_requested tells a dispatcher that holds one of them in flight to open that
    round after its current attempt, instead of writing the attempt's outcome over it.
    """
    budget = Subquery(
        PostbackConfig.objects.filter(pk=OuterRef("config_id")).values("max_attempts")[:1]
    )
    return deliveries.update(
        state=DeliveryState.PENDING,
        max_attempts=F("attempts") + budget,
        next_attempt_at=timezone.now(),
        next_trigger=Trigger.REFIRE,
        refire_requested=True,
        updated=timezone.now(),
    )


def reject_conversion(conversion: Conversion, reason: str) -> list[Delivery]:
    """Reject, cancel its postbacks that have not fired yet, and fire Rejection configs."""
    if conversion.status == ConversionStatus.REJECTED:
        raise TransitionError("The conversion is already rejected.")
    with transaction.atomic():
        conversion.status = ConversionStatus.REJECTED
        conversion.rejection_reason = reason
        conversion.save(update_fields=["status", "rejection_reason", "updated"])
        # Revoking the claim (claim_token) fences off a dispatcher with one of them in
        # flight: it logs its attempt and leaves the delivery cancelled.
        Delivery.objects.filter(
            conversion=conversion, state=DeliveryState.PENDING, attempts=0
        ).exclude(postback_type=PostbackType.REJECTION).update(
            state=DeliveryState.CANCELLED,
            in_flight=False,
            claim_token="",
            last_error="Cancelled: conversion rejected",
            updated=timezone.now(),
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


def enable_config(config: PostbackConfig) -> None:
    """Enable a config (e.g. after an auto-disable) with its failure count started afresh;
    its cancelled deliveries stay cancelled until re-fired."""
    config.enabled = True
    config.consecutive_failures = 0
    config.disabled_reason = ""
    config.save(update_fields=["enabled", "consecutive_failures", "disabled_reason", "updated"])


def rotate_secret(config: PostbackConfig) -> str:
    """Give the config a new signing secret; the old one still signs during the grace period.

    Requests then carry both signatures (space-separated), so a publisher can switch its
    verifier at any time within POSTBACK_SECRET_GRACE_HOURS.
    """
    if config.secret:
        config.previous_secret = config.secret
        config.previous_secret_expires = timezone.now() + timedelta(
            hours=settings.POSTBACK_SECRET_GRACE_HOURS
        )
    config.secret = new_secret()
    config.save(update_fields=["secret", "previous_secret", "previous_secret_expires", "updated"])
    return config.secret


def send_test(config: PostbackConfig) -> PostbackLog:
    """Fire the config once now with sample values; returns the logged attempt.

    Runs in the caller's process on purpose: ops wait for the answer of a test.
    """
    context, webhook_id = sample_context(config), new_webhook_id()
    try:
        request = build_request(config, context, webhook_id)
    except Unsendable as problem:  # refused before sending, as the dispatcher would
        request = OutgoingRequest(method=config.method, url=config.url)
        outcome = Outcome(url=config.url, error=str(problem), permanent=True)
    else:
        with new_session(1) as session:
            outcome = send(request, session)
    log = log_row(sample_attempt(config, context, webhook_id, request), outcome)
    log.save()
    return log
