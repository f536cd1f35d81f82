"""One attempt of a delivery: build the request, and record what came of it.

Recording is fenced: a delivery's outcome is written only by the dispatcher that still
holds its claim (`Delivery.claim_token`). A writer whose claim was taken over (its lease
expired and another dispatcher claimed the row, or a service revoked it) logs its
attempt and changes nothing else.
"""

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from alerts import services as alerts
from offers.models import Consent
from postbacks import rules
from postbacks.addresses import template_target_problem
from postbacks.context import click_context, conversion_context, with_timestamp
from postbacks.log_writer import insert_logs, storable
from postbacks.macros import DEVICE_ID_FIELDS, render
from postbacks.models import (
    ContentType,
    Delivery,
    DeliveryState,
    DeniedConsent,
    LogStatus,
    Method,
    PostbackConfig,
    PostbackLog,
    PostbackType,
    Trigger,
)
from postbacks.retry import is_retryable, retry_delay
from postbacks.rollups import add_to_rollups
from postbacks.transport import Outcome, OutgoingRequest, signature_headers

logger = logging.getLogger(__name__)

CONTENT_TYPES: dict[str, str] = {
    ContentType.FORM: "application/x-www-form-urlencoded",
    ContentType.JSON: "application/json",
}


NO_CONSENT = "No consent: the user denied it, and this config does not send then"
# The macros that identify a device or a person: empty when the user denied consent.
IDENTIFYING_MACROS = (*DEVICE_ID_FIELDS, "device_id", "ip")


def without_identifiers(context: dict) -> dict:
    return {**context, **dict.fromkeys(IDENTIFYING_MACROS, "")}


class Unsendable(Exception):
    """The config's request can never be sent as it stands (e.g. a macro in the host)."""


@dataclass(frozen=True)
class Subject:
    """What an attempt is about, as its log row names it."""

    transaction_id: str
    offer_id: int | None
    publisher_id: int | None
    event_id: int | None = None
    conversion_id: int | None = None
    click_id: int | None = None


@dataclass
class Attempt:
    """One request about to be sent, with everything its log row needs."""

    config: PostbackConfig
    postback_type: str
    request: OutgoingRequest
    number: int
    trigger: str
    subject: Subject
    webhook_id: str
    delivery: Delivery | None = None  # None for a Send test
    claim_token: str = ""

    @property
    def claimed_delivery(self) -> Delivery:
        """The delivery of a dispatcher's attempt; only a Send test has none, and
        Send tests are logged directly, never recorded or dispatched."""
        assert self.delivery is not None, "a Send test has no delivery"
        return self.delivery


@dataclass(frozen=True)
class Change:
    """The delivery fields an outcome sets; deliveries with equal changes share an UPDATE."""

    state: str
    attempts: int
    next_trigger: str
    last_response_code: int
    last_error: str
    next_attempt_at: datetime | None = None  # only when another attempt follows
    max_attempts: int | None = None  # only when a re-fire opens a new round


@dataclass
class Recorded:
    """What record() wrote: deliveries that ended, and attempts whose claim was lost."""

    ended: list[tuple[Attempt, str]] = field(default_factory=list)
    lost: list[Attempt] = field(default_factory=list)


def active_secrets(config: PostbackConfig) -> list[str]:
    secrets = [config.secret] if config.secret else []
    if config.previous_secret and (
        config.previous_secret_expires is None or config.previous_secret_expires > timezone.now()
    ):
        secrets.append(config.previous_secret)
    return secrets


def build_request(config: PostbackConfig, context: dict, webhook_id: str) -> OutgoingRequest:
    """Render the config's templates with context and sign the result."""
    problem = template_target_problem(config.url)
    if problem:
        # Saving refuses such templates; this catches configs stored before that rule.
        raise Unsendable(problem)
    context = with_timestamp(context)
    if config.event_names:
        context["event_name"] = rules.event_name(config.event_names, context.get("event_name", ""))
    url = render(config.url, context, "url")
    body, content_type = "", ""
    if config.method == Method.POST:
        encoding = "json" if config.content_type == ContentType.JSON else "form"
        body = (
            render(config.body, context, encoding)
            if config.body
            else _default_body(config, context)
        )
        content_type = CONTENT_TYPES[config.content_type]
    # The partner's own headers, then ours: every request names its delivery, so
    # receivers can dedupe retries even unsigned.
    headers = rules.rendered_headers(config.headers or {}, context)
    headers["webhook-id"] = webhook_id
    secrets = active_secrets(config)
    if secrets:
        payload = body if config.method == Method.POST else url
        headers.update(signature_headers(secrets, webhook_id, context["timestamp"], payload))
    return OutgoingRequest(
        method=config.method,
        url=url,
        body=body,
        content_type=content_type,
        headers=headers,
        timeout=float(config.timeout_seconds),
    )


def _default_body(config: PostbackConfig, context: dict) -> str:
    """A POST config without a body template sends every macro."""
    values = {key: "" if value is None else str(value) for key, value in context.items()}
    if config.content_type == ContentType.JSON:
        return json.dumps(values)
    return urlencode(values)


def delivery_context(delivery: Delivery) -> dict:
    if delivery.conversion is not None:
        return conversion_context(delivery.conversion)
    assert delivery.click is not None, "a delivery is queued for a conversion or a click"
    return click_context(delivery.click)


def delivery_subject(delivery: Delivery) -> Subject:
    conversion = delivery.conversion
    subject = conversion or delivery.click
    assert subject is not None, "a delivery is queued for a conversion or a click"
    is_event = delivery.postback_type == PostbackType.EVENT
    return Subject(
        transaction_id=subject.transaction_id,
        offer_id=subject.offer_id,
        publisher_id=subject.publisher_id,
        event_id=conversion.event_id if is_event and conversion is not None else None,
        conversion_id=delivery.conversion_id,
        click_id=delivery.click_id,
    )


def delivery_consent(delivery: Delivery) -> str:
    """The user's consent: as the conversion (or install) reported it, else the click's."""
    conversion = delivery.conversion
    if conversion is not None and conversion.consent:
        return conversion.consent
    click = delivery.click or (conversion.click if conversion is not None else None)
    return click.consent if click is not None else ""


def held_back(delivery: Delivery, now: datetime) -> Outcome | None:
    """The Skipped outcome of a delivery a rule says not to send: the user denied consent
    and the config skips such postbacks, or its publisher no longer accepts it."""
    config = delivery.config
    if config.on_denied_consent == DeniedConsent.SKIP and delivery_consent(delivery) == (
        Consent.DENIED
    ):
        return Outcome(url="", error=NO_CONSENT, permanent=True, skipped=True)
    return too_late(delivery, now)


def too_late(delivery: Delivery, now: datetime) -> Outcome | None:
    """The Skipped outcome of a delivery its publisher no longer accepts (the config's
    accept window, counted from the click, or from the conversion without one)."""
    hours = delivery.config.accept_window_hours
    if hours is None:
        return None
    conversion = delivery.conversion
    click = delivery.click or (conversion.click if conversion is not None else None)
    if click is not None:
        reason = rules.late(click.created, "click", now, hours)
    else:
        assert conversion is not None, "a delivery is queued for a conversion or a click"
        reason = rules.late(conversion.created, "conversion", now, hours)
    if reason is None:
        return None
    return Outcome(url="", error=reason, permanent=True, skipped=True)


def prepare(delivery: Delivery, claim_token: str = "") -> Attempt:
    """The next attempt of a claimed delivery; raises if its request cannot be built. A
    user who denied consent is sent without identifiers unless the config says send."""
    context = delivery_context(delivery)
    if delivery.config.on_denied_consent != DeniedConsent.SEND and (
        delivery_consent(delivery) == Consent.DENIED
    ):
        context = without_identifiers(context)
    request = build_request(delivery.config, context, delivery.webhook_id)
    return delivery_attempt(delivery, request, delivery_subject(delivery), claim_token)


def delivery_attempt(
    delivery: Delivery, request: OutgoingRequest, subject: Subject, claim_token: str
) -> Attempt:
    return Attempt(
        config=delivery.config,
        postback_type=delivery.postback_type,
        request=request,
        number=delivery.attempts + 1,
        trigger=delivery.next_trigger,
        subject=subject,
        webhook_id=delivery.webhook_id,
        delivery=delivery,
        claim_token=claim_token,
    )


def sample_attempt(
    config: PostbackConfig, context: dict, webhook_id: str, request: OutgoingRequest
) -> Attempt:
    """A Send test: logged under the config's own offer and event, never sample IDs that
    another advertiser may own."""
    return Attempt(
        config=config,
        postback_type=config.postback_type,
        request=request,
        number=1,
        trigger=Trigger.TEST,
        subject=Subject(
            transaction_id=context["transaction_id"],
            offer_id=config.offer_id,
            publisher_id=config.publisher_id,
            event_id=config.event_id,
        ),
        webhook_id=webhook_id,
    )


def log_status(outcome: Outcome) -> str:
    if outcome.skipped:
        return LogStatus.SKIPPED
    return LogStatus.SUCCESS if outcome.ok else LogStatus.FAILED


def log_row(attempt: Attempt, outcome: Outcome) -> PostbackLog:
    subject = attempt.subject
    row = PostbackLog(
        created=timezone.now(),
        status=log_status(outcome),
        postback_name=attempt.config.name,
        postback_type=attempt.postback_type,
        offer_id=subject.offer_id,
        publisher_id=subject.publisher_id,
        event_id=subject.event_id,
        transaction_id=subject.transaction_id,
        response_code=outcome.response_code,
        url=rules.masked_url(outcome.url or attempt.request.url, attempt.config.secret_parameters),
        error=outcome.error,
        server_response=outcome.server_response,
        method=attempt.request.method,
        attempt=attempt.number,
        duration_ms=outcome.duration_ms,
        trigger=attempt.trigger,
        request_headers=rules.masked_headers(attempt.request.headers),
        request_body=attempt.request.body,
        webhook_id=attempt.webhook_id,
        config_version=attempt.config.version,
        delivery=attempt.delivery,
        config=attempt.config,
        conversion_id=subject.conversion_id,
        click_id=subject.click_id,
    )
    return storable(row)


def outcome_change(attempt: Attempt, outcome: Outcome, refire_requested: bool) -> Change:
    """The delivery's next state after this outcome.

    A re-fire that arrived while the attempt was in flight gets a fresh round now,
    whatever the outcome.
    """
    number = attempt.number
    code, error = outcome.response_code, outcome.error
    delivery = attempt.delivery
    assert delivery is not None
    now = timezone.now()
    if refire_requested:
        return Change(
            DeliveryState.PENDING,
            number,
            Trigger.REFIRE,
            code,
            error,
            next_attempt_at=now,
            max_attempts=number + attempt.config.max_attempts,
        )
    if outcome.ok:
        return Change(DeliveryState.SUCCEEDED, number, Trigger.RETRY, code, error)
    if outcome.skipped:  # not sent, and sending later would be later still
        return Change(DeliveryState.SKIPPED, number, Trigger.RETRY, code, error)
    if is_retryable(code, outcome.permanent) and number < delivery.max_attempts:
        delay = timedelta(seconds=retry_delay(number, outcome.retry_after))
        return Change(
            DeliveryState.PENDING, number, Trigger.RETRY, code, error, next_attempt_at=now + delay
        )
    return Change(DeliveryState.FAILED, number, Trigger.RETRY, code, error)


def record(results: list[tuple[Attempt, Outcome]]) -> Recorded:
    """Write the log rows of finished attempts and, where the claim still holds, the
    deliveries' new state, in one transaction."""
    recorded = Recorded()
    if not results:
        return recorded
    with transaction.atomic():
        logs = [log_row(attempt, outcome) for attempt, outcome in results]
        insert_logs(logs)
        held = _held_claims([attempt for attempt, _ in results])
        changes = []
        exhausted: list[tuple[PostbackConfig, str]] = []
        for attempt, outcome in results:
            key = (attempt.claimed_delivery.pk, attempt.claim_token)
            if key not in held:
                recorded.lost.append(attempt)
                continue
            change = outcome_change(attempt, outcome, refire_requested=held[key])
            changes.append((attempt, change))
            if change.state in (DeliveryState.SUCCEEDED, DeliveryState.FAILED):
                recorded.ended.append((attempt, change.state))
            if change.state == DeliveryState.FAILED and change.attempts >= (
                attempt.claimed_delivery.max_attempts
            ):
                exhausted.append((attempt.config, change.last_error))
        _write_deliveries(changes)
        _count_endings(recorded.ended)
        if exhausted:
            alerts.deliveries_exhausted(exhausted)
        add_to_rollups(results, logs, recorded.ended)
    for attempt in recorded.lost:
        logger.info(
            "delivery %s: claim lost during attempt %s; logged the attempt only",
            attempt.claimed_delivery.pk,
            attempt.number,
        )
    return recorded


def _held_claims(attempts: list[Attempt]) -> dict[tuple[int, str], bool]:
    """(delivery id, claim token) -> refire_requested, for the claims that still hold.

    The rows stay locked until the transaction ends, so a re-fire waits for this write
    (PostgreSQL; SQLite's write lock serialises anyway) and then sees its outcome.
    """
    rows = (
        Delivery.objects.select_for_update()
        .among({attempt.claimed_delivery.pk for attempt in attempts})
        .exclude(claim_token="")
        .values_list("pk", "claim_token", "refire_requested")
    )
    return {(pk, token): refire for pk, token, refire in rows}


def _write_deliveries(changes: list[tuple[Attempt, Change]]) -> None:
    """One UPDATE per claim and alike outcome (bulk_update's CASE per row and field costs
    more than the requests themselves); retries differ by their jittered time. The claim
    token in the WHERE is the fence."""
    groups = defaultdict(list)
    for attempt, change in changes:
        groups[(attempt.claim_token, change)].append(attempt.claimed_delivery.pk)
    now = timezone.now()
    for (token, change), ids in groups.items():
        values = {
            "state": change.state,
            "attempts": change.attempts,
            "next_trigger": change.next_trigger,
            "last_response_code": change.last_response_code,
            "last_error": change.last_error,
            "locked_until": now,
            "in_flight": False,
            "claim_token": "",
            "refire_requested": False,
            "updated": now,
        }
        if change.next_attempt_at is not None:
            values["next_attempt_at"] = change.next_attempt_at
        if change.max_attempts is not None:
            values["max_attempts"] = change.max_attempts
        Delivery.objects.among(ids).filter(claim_token=token).update(**values)


def _count_endings(ended: list[tuple[Attempt, str]]) -> None:
    """A success resets its config's failure count; a failed delivery adds one, and the
    config is disabled once the count reaches its limit."""
    recovered = {
        attempt.config.pk
        for attempt, state in ended
        if state == DeliveryState.SUCCEEDED and attempt.config.consecutive_failures
    }
    if recovered:
        PostbackConfig.objects.filter(pk__in=recovered).update(consecutive_failures=0)
        alerts.configs_recovered(recovered)
    for attempt, state in ended:
        if state == DeliveryState.FAILED:
            _count_failure(attempt.config)


def _count_failure(config: PostbackConfig) -> None:
    PostbackConfig.objects.filter(pk=config.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    config.refresh_from_db(fields=["consecutive_failures", "enabled", "disable_after_failures"])
    limit = config.disable_after_failures
    if limit and config.enabled and config.consecutive_failures >= limit:
        auto_disable(
            config, f"Disabled after {config.consecutive_failures} consecutive failed deliveries."
        )


def auto_disable(config: PostbackConfig, reason: str) -> None:
    """Stop firing a config that keeps failing; the alert tells ops once the write commits."""
    config.enabled = False
    config.disabled_reason = f"{timezone.now():%Y-%m-%d %H:%M} UTC: {reason}"
    config.save(update_fields=["enabled", "disabled_reason", "updated"])
    alerts.config_disabled(config, reason)
