"""One attempt of a delivery: build the request, and record what came of it."""

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import mail_admins, send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from logs.models import LogStatus, PostbackLog
from postbacks.context import click_context, conversion_context, with_timestamp
from postbacks.macros import render
from postbacks.models import ContentType, Delivery, DeliveryState, Method, PostbackConfig
from postbacks.retry import is_retryable, retry_delay
from postbacks.transport import Outcome, OutgoingRequest, signature_headers

CONTENT_TYPES = {
    ContentType.FORM: "application/x-www-form-urlencoded",
    ContentType.JSON: "application/json",
}


@dataclass
class Attempt:
    delivery: Delivery
    request: OutgoingRequest
    number: int
    trigger: str


def active_secrets(config: PostbackConfig) -> list[str]:
    secrets = [config.secret] if config.secret else []
    if config.previous_secret and (
        config.previous_secret_expires is None or config.previous_secret_expires > timezone.now()
    ):
        secrets.append(config.previous_secret)
    return secrets


def build_request(config: PostbackConfig, context: dict, webhook_id: str) -> OutgoingRequest:
    """Render the config's templates with context and sign the result."""
    context = with_timestamp(context)
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
    # Every request names its delivery, so receivers can dedupe retries even unsigned.
    headers = {"webhook-id": webhook_id}
    secrets = active_secrets(config)
    if secrets:
        payload = body if config.method == Method.POST else url
        headers = signature_headers(secrets, webhook_id, context["timestamp"], payload)
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
    if delivery.conversion_id:
        return conversion_context(delivery.conversion)
    return click_context(delivery.click)


def prepare(delivery: Delivery) -> Attempt:
    request = build_request(delivery.config, delivery_context(delivery), delivery.webhook_id)
    return Attempt(delivery, request, delivery.attempts + 1, delivery.next_trigger)


def log_row(attempt: Attempt, outcome: Outcome) -> PostbackLog:
    delivery, config = attempt.delivery, attempt.delivery.config
    subject = delivery.conversion or delivery.click
    conversion = delivery.conversion
    return PostbackLog(
        created=timezone.now(),
        status=LogStatus.SUCCESS if outcome.ok else LogStatus.FAILED,
        postback_name=config.name,
        postback_type=delivery.postback_type,
        offer_id=subject.offer_id,
        publisher_id=subject.publisher_id,
        event_id=conversion.event_id
        if conversion is not None and delivery.postback_type == "event"
        else None,
        transaction_id=subject.transaction_id,
        response_code=outcome.response_code,
        url=outcome.url if outcome.url else attempt.request.url,
        error=outcome.error,
        server_response=outcome.server_response,
        method=attempt.request.method,
        attempt=attempt.number,
        duration_ms=outcome.duration_ms,
        trigger=attempt.trigger,
        request_headers=attempt.request.headers,
        request_body=attempt.request.body,
        webhook_id=delivery.webhook_id,
        delivery=delivery,
        config=config,
        conversion=conversion,
        click=delivery.click,
    )


def apply_outcome(attempt: Attempt, outcome: Outcome) -> str | None:
    """Update the delivery row for this outcome; returns "success"/"failed" when it ends."""
    delivery = attempt.delivery
    now = timezone.now()
    delivery.attempts = attempt.number
    delivery.last_response_code = outcome.response_code
    delivery.last_error = outcome.error
    delivery.locked_until = now
    delivery.in_flight = False
    delivery.updated = now
    delivery.next_trigger = "retry"
    if outcome.ok:
        delivery.state = DeliveryState.SUCCEEDED
        return "success"
    if (
        is_retryable(outcome.response_code, outcome.permanent)
        and delivery.attempts < delivery.max_attempts
    ):
        delivery.next_attempt_at = now + timedelta(
            seconds=retry_delay(delivery.attempts, outcome.retry_after)
        )
        return None
    delivery.state = DeliveryState.FAILED
    return "failed"


def record(results: list[tuple[Attempt, Outcome]]) -> None:
    """Write the log rows and delivery states of finished attempts in one transaction."""
    if not results:
        return
    endings = []
    for attempt, outcome in results:
        ending = apply_outcome(attempt, outcome)
        if ending:
            endings.append((attempt.delivery.config, ending))
    with transaction.atomic():
        PostbackLog.objects.bulk_create([log_row(attempt, outcome) for attempt, outcome in results])
        _write_deliveries([attempt.delivery for attempt, _ in results])
        recovered = {
            c.pk for c, ending in endings if ending == "success" and c.consecutive_failures
        }
        if recovered:
            PostbackConfig.objects.filter(pk__in=recovered).update(consecutive_failures=0)
        for config, ending in endings:
            if ending == "failed":
                _count_failure(config)


def _write_deliveries(deliveries: list[Delivery]) -> None:
    """One UPDATE per group of deliveries that end up alike (bulk_update's CASE per row and
    field costs more than the requests themselves); retries differ by their jittered time."""
    groups = defaultdict(list)
    for delivery in deliveries:
        key = (
            delivery.state,
            delivery.attempts,
            delivery.next_attempt_at if delivery.state == DeliveryState.PENDING else None,
            delivery.next_trigger,
            delivery.last_response_code,
            delivery.last_error,
        )
        groups[key].append(delivery.pk)
    now = timezone.now()
    for (state, attempts, next_attempt_at, trigger, code, error), ids in groups.items():
        values = {
            "state": state,
            "attempts": attempts,
            "next_trigger": trigger,
            "last_response_code": code,
            "last_error": error,
            "locked_until": now,
            "in_flight": False,
            "updated": now,
        }
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        Delivery.objects.filter(pk__in=ids).update(**values)


def _count_failure(config: PostbackConfig) -> None:
    PostbackConfig.objects.filter(pk=config.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    config.refresh_from_db(fields=["consecutive_failures", "enabled", "disable_after_failures"])
    limit = config.disable_after_failures
    if limit and config.enabled and config.consecutive_failures >= limit:
        disable_config(
            config, f"Disabled after {config.consecutive_failures} consecutive failed deliveries."
        )


def disable_config(config: PostbackConfig, reason: str) -> None:
    config.enabled = False
    config.disabled_reason = f"{timezone.now():%Y-%m-%d %H:%M} UTC: {reason}"
    config.save(update_fields=["enabled", "disabled_reason", "updated"])
    transaction.on_commit(lambda: _tell_ops(config, reason))


def _tell_ops(config: PostbackConfig, reason: str) -> None:
    subject = f"[Integr8] Postback {config.name!r} (#{config.pk}) was disabled"
    message = (
        f"{reason}\n\nPublisher: {config.publisher_id}\nURL template: {config.url}\n"
        "Fix the endpoint, then re-enable the config in the admin."
    )
    if settings.OPS_EMAIL:
        send_mail(subject, message, None, [settings.OPS_EMAIL], fail_silently=True)
    else:
        mail_admins(subject, message, fail_silently=True)
