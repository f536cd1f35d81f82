"""What triggers deliveries, and what ops and advertisers do to them.

Deliveries are stored in the same transaction as the click or conversion that caused
them; the doorbell rings only after that transaction commits.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django_q.tasks import async_task

from alerts import services as alerts
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
    RefireJob,
    RefireJobState,
    Trigger,
    new_secret,
    new_webhook_id,
)
from postbacks.rules import judged
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


# At most this many deliveries per "Re-fire matching" (SPEC §11). A setting of the same
# name overrides it, e.g. a small one in tests.
REFIRE_MATCHING_LIMIT = 100_000
# Deliveries per UPDATE: short transactions, and the dispatcher starts on the first chunk.
REFIRE_CHUNK_SIZE = 1_000
# The background task of a RefireJob, by its import path (django-q2 stores the name).
REFIRE_JOB_TASK = "logs.tasks.run_refire_job"
# A job without progress for this long lost its run (chunks take well under a second).
REFIRE_JOB_STALL_SECONDS = 300


class TooManyDeliveries(Exception):
    """More deliveries match than one re-fire may re-open (answered 400)."""

    def __init__(self, limit: int, matched: int):
        super().__init__(
            f"At least {matched:,} deliveries match these filters; one re-fire re-opens at "
            f"most {limit:,}. Narrow the filters, e.g. to a shorter time range."
        )
        self.limit = limit
        self.matched = matched


@dataclass(frozen=True)
class RefireCounts:
    """Distinct deliveries behind the matching log rows; each figure stops at limit + 1."""

    unfinished: int  # config enabled, not yet succeeded: re-opened
    succeeded: int  # config enabled, succeeded: re-opened only with include_succeeded
    disabled: int  # config disabled: never re-opened
    limit: int

    def reopening(self, include_succeeded: bool) -> int:
        return self.unfinished + (self.succeeded if include_succeeded else 0)

    def too_many(self, include_succeeded: bool) -> bool:
        return self.reopening(include_succeeded) > self.limit


def refire_matching_limit() -> int:
    return int(getattr(settings, "REFIRE_MATCHING_LIMIT", REFIRE_MATCHING_LIMIT))


def _delivery_ids(logs: QuerySet[PostbackLog]) -> QuerySet:
    """SELECT DISTINCT delivery_id: no ORDER BY, else its column would join the DISTINCT."""
    return logs.order_by().values_list("delivery_id", flat=True).distinct()


def _refire_ids(logs: QuerySet[PostbackLog], include_succeeded: bool) -> QuerySet:
    logs = logs.filter(delivery__config__enabled=True)
    if not include_succeeded:
        logs = logs.exclude(delivery__state=DeliveryState.SUCCEEDED)
    return _delivery_ids(logs)


def count_refire_matching(logs: QuerySet[PostbackLog]) -> RefireCounts:
    """What "Re-fire matching" would do; three COUNTs over `SELECT DISTINCT … LIMIT cap+1`."""
    limit = refire_matching_limit()
    enabled = logs.filter(delivery__config__enabled=True)
    succeeded = DeliveryState.SUCCEEDED
    return RefireCounts(
        unfinished=_delivery_ids(enabled.exclude(delivery__state=succeeded))[: limit + 1].count(),
        succeeded=_delivery_ids(enabled.filter(delivery__state=succeeded))[: limit + 1].count(),
        disabled=_delivery_ids(logs.filter(delivery__config__enabled=False))[: limit + 1].count(),
        limit=limit,
    )


def _matching_ids(logs: QuerySet[PostbackLog], include_succeeded: bool) -> list[int]:
    limit = refire_matching_limit()
    ids = list(_refire_ids(logs, include_succeeded)[: limit + 1])
    if len(ids) > limit:
        raise TooManyDeliveries(limit, len(ids))
    return sorted(ids)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), REFIRE_CHUNK_SIZE):
        yield ids[start : start + REFIRE_CHUNK_SIZE]


def _chunk_deliveries(ids: list[int], include_succeeded: bool) -> QuerySet[Delivery]:
    # Checked again in the UPDATE: a config may be disabled, a delivery succeed, meanwhile.
    deliveries = Delivery.objects.filter(pk__in=ids, config__enabled=True)
    if not include_succeeded:
        deliveries = deliveries.exclude(state=DeliveryState.SUCCEEDED)
    return deliveries


def refire_matching(logs: QuerySet[PostbackLog], include_succeeded: bool = False) -> int:
    """Re-open the distinct deliveries behind these log rows; returns how many.

    Only deliveries not yet succeeded, unless include_succeeded; never those of disabled
    configs. Same webhook-id, trigger refire, REFIRE_CHUNK_SIZE per UPDATE. Raises
    TooManyDeliveries above refire_matching_limit(), before changing anything.
    """
    reopened = 0
    for chunk in _chunks(_matching_ids(logs, include_succeeded)):
        with transaction.atomic():
            count = _reopen(_chunk_deliveries(chunk, include_succeeded))
        if count:
            ring_doorbell()
        reopened += count
    return reopened


def queue_refire_job(filters: str, include_succeeded: bool, user) -> RefireJob:
    """Record a Re-fire matching of the log rows `filters` (a §7 query string) selects,
    and run it in the background once the caller's transaction commits."""
    job = RefireJob.objects.create(filters=filters, include_succeeded=include_succeeded, user=user)
    transaction.on_commit(lambda: _enqueue_refire_job(job.pk))
    return job


def _enqueue_refire_job(job_id: int) -> None:
    try:
        async_task(REFIRE_JOB_TASK, job_id)
    except Exception as problem:  # the job is committed: say why it will not run
        logger.exception("could not queue re-fire job %s", job_id)
        _finish_refire_job(job_id, RefireJobState.FAILED, f"Could not queue the job: {problem}")


def _finish_refire_job(job_id: int, state: str, error: str = "") -> None:
    RefireJob.objects.filter(pk=job_id).update(state=state, error=error, updated=timezone.now())


def run_refire_job(job_id: int, logs: QuerySet[PostbackLog]) -> None:
    """Re-open the job's deliveries (behind `logs`) chunk by chunk, counting `done`.

    Safe to run twice: only the run that moves the job from queued to running works.
    """
    claimed = RefireJob.objects.filter(pk=job_id, state=RefireJobState.QUEUED).update(
        state=RefireJobState.RUNNING, updated=timezone.now()
    )
    if not claimed:
        return
    job = RefireJob.objects.get(pk=job_id)
    try:
        finished = _run_refire_chunks(job, logs)
    except TooManyDeliveries as problem:
        _finish_refire_job(job_id, RefireJobState.FAILED, str(problem))
    except Exception as problem:
        _finish_refire_job(job_id, RefireJobState.FAILED, f"Stopped: {problem}")
        raise
    else:
        if finished:
            _finish_refire_job(job_id, RefireJobState.DONE)


def _run_refire_chunks(job: RefireJob, logs: QuerySet[PostbackLog]) -> bool:
    """Re-open the chunks after job.last_delivery_id; False if another run took over.

    Each chunk's transaction moves last_delivery_id on, and first checks (row locked)
    that it is still where this run left it: a resumed job and a run that was only slow
    never re-open the same delivery twice.
    """
    last = job.last_delivery_id
    ids = [pk for pk in _matching_ids(logs, job.include_succeeded) if pk > last]
    RefireJob.objects.filter(pk=job.pk).update(total=job.done + len(ids), updated=timezone.now())
    for chunk in _chunks(ids):
        with transaction.atomic():
            held = RefireJob.objects.select_for_update().filter(
                pk=job.pk, state=RefireJobState.RUNNING, last_delivery_id=last
            )
            if not held.exists():
                return False
            count = _reopen(_chunk_deliveries(chunk, job.include_succeeded))
            last = chunk[-1]
            RefireJob.objects.filter(pk=job.pk).update(
                done=F("done") + len(chunk),
                reopened=F("reopened") + count,
                last_delivery_id=last,
                updated=timezone.now(),
            )
        if count:
            ring_doorbell()
    return True


def resume_stalled_refire_jobs(now=None) -> int:
    """Re-queue jobs whose run was lost (a worker killed mid-job, or a lost task): queued
    or running without progress for REFIRE_JOB_STALL_SECONDS. They go on where they were."""
    now = now or timezone.now()
    stall = getattr(settings, "REFIRE_JOB_STALL_SECONDS", REFIRE_JOB_STALL_SECONDS)
    cutoff = now - timedelta(seconds=stall)
    RefireJob.objects.filter(state=RefireJobState.RUNNING, updated__lt=cutoff).update(
        state=RefireJobState.QUEUED, updated=now
    )
    stalled = list(
        RefireJob.objects.filter(state=RefireJobState.QUEUED, created__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    for job_id in stalled:
        _enqueue_refire_job(job_id)
    return len(stalled)


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
    alerts.config_enabled(config)


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
            outcome = judged(send(request, session), config.success_rule)
    log = log_row(sample_attempt(config, context, webhook_id, request), outcome)
    log.save()
    return log
