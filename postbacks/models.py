"""Postback configs (what a publisher wants to hear) and deliveries (what we owe it)."""

import base64
import binascii
import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from postbacks import rules
from postbacks.addresses import validate_postback_url
from postbacks.macros import validate_template


class PostbackType(models.TextChoices):
    CLICK = "click", "Click"
    CONVERSION = "conversion", "Conversion"
    EVENT = "event", "Event"
    REJECTION = "rejection", "Rejection"


class Method(models.TextChoices):
    GET = "GET", "GET"
    POST = "POST", "POST"


class ContentType(models.TextChoices):
    FORM = "form", "Form (application/x-www-form-urlencoded)"
    JSON = "json", "JSON (application/json)"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def new_webhook_id() -> str:
    return "msg_" + uuid.uuid4().hex


def validate_signing_secret(value: str) -> None:
    """Blank (unsigned), or whsec_ and the base64 of a 24 to 64 byte key."""
    if not value:
        return
    message = "Use whsec_ followed by base64 of 24 to 64 random bytes (or Rotate signing secret)."
    try:
        key = base64.b64decode(value.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(message) from None
    if not value.startswith("whsec_") or not 24 <= len(key) <= 64:
        raise ValidationError(message)


class DeniedConsent(models.TextChoices):
    """What a config does with a postback whose user denied consent (SPEC §14)."""

    SEND = "send", "Send as usual"
    STRIP = "strip", "Send without device identifiers and IP"
    SKIP = "skip", "Do not send (Skipped)"


class PostbackConfigQuerySet(models.QuerySet):
    def matching(self, postback_type: str, publisher_id: int, offer_id: int, event_id=None):
        """Enabled configs of this publisher for this offer (or all offers)."""
        configs = self.filter(
            enabled=True, postback_type=postback_type, publisher_id=publisher_id
        ).filter(models.Q(offer__isnull=True) | models.Q(offer_id=offer_id))
        if postback_type == PostbackType.EVENT:
            configs = configs.filter(models.Q(event__isnull=True) | models.Q(event_id=event_id))
        return configs


class PostbackConfig(models.Model):
    name = models.CharField(max_length=200)
    publisher = models.ForeignKey(
        "offers.Publisher", on_delete=models.CASCADE, related_name="postback_configs"
    )
    offer = models.ForeignKey(
        "offers.Offer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="postback_configs",
        help_text="Empty = all of the publisher's offers.",
    )
    postback_type = models.CharField(
        max_length=12, choices=PostbackType.choices, default=PostbackType.CONVERSION
    )
    event = models.ForeignKey(
        "offers.OfferEvent",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="postback_configs",
        help_text="Event postbacks only; empty = every event.",
    )
    url = models.CharField(max_length=2000, validators=[validate_template, validate_postback_url])
    method = models.CharField(max_length=4, choices=Method.choices, default=Method.GET)
    body = models.TextField(blank=True, validators=[validate_template])
    content_type = models.CharField(
        max_length=4, choices=ContentType.choices, default=ContentType.FORM
    )
    enabled = models.BooleanField(default=True)
    timeout_seconds = models.PositiveIntegerField(default=10)
    max_attempts = models.PositiveIntegerField(default=5)
    secret = models.CharField(
        max_length=200,
        blank=True,
        validators=[validate_signing_secret],
        help_text="whsec_… signs requests (Standard Webhooks); blank = unsigned. "
        "Use the Rotate signing secret action to generate one.",
    )
    previous_secret = models.CharField(
        max_length=200,
        blank=True,
        help_text="After a rotation, also signed with this until previous_secret_expires.",
    )
    previous_secret_expires = models.DateTimeField(null=True, blank=True)
    fire_on_pending = models.BooleanField(
        default=False, help_text="Also fire for conversions reported as pending."
    )
    delay_seconds = models.PositiveIntegerField(
        default=0, help_text="Wait before the first attempt (e.g. for fraud checks)."
    )
    disable_after_failures = models.PositiveIntegerField(
        default=10, help_text="Disable after this many consecutive failed deliveries; 0 = never."
    )
    # Partner rules (SPEC §12, postbacks.rules).
    accept_window_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[rules.validate_accept_window_hours],
        help_text="The publisher accepts postbacks up to this many hours after the click "
        "(or the conversion, without a click); later ones are Skipped, never sent. "
        "Empty = no limit.",
    )
    success_rule = models.JSONField(
        null=True,
        blank=True,
        validators=[rules.validate_success_rule],
        help_text='What a 2xx answer must show: {"kind": "contains", "text": "OK"}, '
        '{"kind": "not_contains", "text": "error"} or {"kind": "json_equals", '
        '"field": "status", "value": "ok"}. Empty = any 2xx is a success.',
    )
    headers = models.JSONField(
        default=dict,
        blank=True,
        validators=[rules.validate_headers],
        help_text='Extra request headers; values may hold macros: {"Authorization": '
        '"Bearer abc"}. Values of credential-like headers are shown as ****.',
    )
    event_names = models.JSONField(
        default=dict,
        blank=True,
        validators=[rules.validate_event_names],
        help_text="The publisher's names for our events, for {event_name}: "
        '{"purchase": "af_purchase"}.',
    )
    secret_parameters = models.JSONField(
        default=list,
        blank=True,
        validators=[rules.validate_secret_parameters],
        help_text="Query parameters of the URL that carry the publisher's credentials, e.g. "
        '["token", "key"]: sent for real, stored and shown as ****.',
    )
    on_denied_consent = models.CharField(
        max_length=5,
        choices=DeniedConsent.choices,
        default=DeniedConsent.STRIP,
        help_text="When the user denied consent: send as usual, send without device "
        "identifiers and IP (their macros empty), or do not send (Skipped: No consent).",
    )
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Goes up with every change of what is sent."
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    objects = PostbackConfigQuerySet.as_manager()

    # What a request is made of: a change to any of them is a new version (SPEC §12).
    SENT_FIELDS = (
        "url",
        "method",
        "body",
        "content_type",
        "headers",
        "event_names",
        "secret",
        "accept_window_hours",
        "success_rule",
        "on_denied_consent",
        "secret_parameters",
    )

    # What a publisher's portal user may change when its publisher allows it (SPEC §14):
    # what is sent to it, never whose config it is, when it fires or how hard we retry.
    PUBLISHER_EDITABLE_FIELDS = (
        "url",
        "method",
        "body",
        "content_type",
        "headers",
        "success_rule",
        "accept_window_hours",
        "event_names",
        "secret_parameters",
    )

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"

    def save(self, *args, **kwargs) -> None:
        """Saves; a change of what is sent bumps `version` and records what changed."""
        update_fields = kwargs.get("update_fields")
        watched = self.pk is not None and (
            update_fields is None or set(update_fields) & set(self.SENT_FIELDS)
        )
        stored = self._stored_sent_fields() if watched else None
        if stored is not None:
            self.headers = rules.unmasked_headers(self.headers, stored["headers"] or {})
            self.url = rules.unmasked_url(
                self.url, stored["url"], self.secret_parameters or stored["secret_parameters"] or []
            )
        changes = self._sent_changes(stored) if stored is not None else {}
        if changes:
            self.version += 1
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "version"}
        super().save(*args, **kwargs)
        if changes:
            PostbackConfigVersion.objects.create(config=self, version=self.version, changes=changes)

    def _stored_sent_fields(self) -> dict | None:
        return type(self)._default_manager.filter(pk=self.pk).values(*self.SENT_FIELDS).first()

    def _sent_changes(self, stored: dict) -> dict[str, list]:
        """{field: [before, after]} as history may show them (secrets and credential
        header values masked)."""
        changes = {}
        for name in self.SENT_FIELDS:
            before, after = stored[name], getattr(self, name)
            if before == after:
                continue
            if name == "secret":
                before, after = ("set" if before else ""), ("set" if after else "")
            elif name == "url":
                before = rules.masked_url(before, self.secret_parameters or [])
                after = rules.masked_url(after, self.secret_parameters or [])
            elif name == "headers":
                before, after = (
                    rules.masked_headers(before or {}),
                    rules.masked_headers(after or {}),
                )
            changes[name] = [before, after]
        return changes

    def clean(self) -> None:
        errors = {}
        if self.event_id and self.postback_type != PostbackType.EVENT:
            errors["event"] = "Only Event postbacks select an event."
        if self.offer_id and self.event is not None and self.event.offer_id != self.offer_id:
            errors["event"] = "The event belongs to another offer."
        if self.timeout_seconds < 1 or self.timeout_seconds > 60:
            errors["timeout_seconds"] = "Use 1 to 60 seconds."
        if self.max_attempts < 1 or self.max_attempts > 20:
            errors["max_attempts"] = "Use 1 to 20 attempts."
        if errors:
            raise ValidationError(errors)


class PostbackConfigVersion(models.Model):
    """One change of what a config sends: the config's history (SPEC §12)."""

    config = models.ForeignKey(PostbackConfig, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    created = models.DateTimeField(default=timezone.now)
    changes = models.JSONField(help_text="{field: [before, after]}; credentials masked.")

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["config", "version"], name="configversion_key")
        ]

    def __str__(self) -> str:
        return f"{self.config_id} v{self.version}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its next attempt
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"  # gave up: permanent error or attempts used up
    CANCELLED = "cancelled", "Cancelled"  # e.g. config disabled before it fired
    SKIPPED = "skipped", "Skipped"  # a partner rule said not to send it (too late)


def array_literal(values: Iterable[int | datetime]) -> str:
    """A PostgreSQL array literal of ints or aware datetimes, sent as one text parameter
    (`%s::bigint[]`): psycopg would dump a list element by element in Python."""
    return "{" + ",".join(map(_array_element, values)) + "}"


def _array_element(value: int | datetime) -> str:
    return f'"{value.isoformat()}"' if isinstance(value, datetime) else str(value)


class DeliveryQuerySet(models.QuerySet):
    def due(self, now=None):
        return self.filter(self.due_condition(now or timezone.now()))

    def among(self, ids: Iterable[int]) -> "DeliveryQuerySet":
        """pk__in for the dispatcher's batches of hundreds of ids: on PostgreSQL one array
        parameter, not a placeholder per id that Django compiles and psycopg quotes into
        the statement's text on every claim and record."""
        ids = [int(pk) for pk in ids]
        if connections[self.db].vendor != "postgresql":
            return self.filter(pk__in=ids)
        return self.filter(pk__in=RawSQL("SELECT unnest(%s::bigint[])", [array_literal(ids)]))

    @staticmethod
    def due_condition(now: datetime) -> Q:
        return Q(state=DeliveryState.PENDING, next_attempt_at__lte=now, locked_until__lte=now)


class Delivery(models.Model):
    """One per trigger (click, conversion, rejection) and matching config.

    The database is the truth: the queue only rings the bell, a dispatcher claims due rows
    (`locked_until` is the claim's lease), and a sweep re-rings for anything due.
    """

    config = models.ForeignKey(PostbackConfig, on_delete=models.CASCADE, related_name="deliveries")
    postback_type = models.CharField(max_length=12, choices=PostbackType.choices)
    click = models.ForeignKey(
        "offers.Click", null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    conversion = models.ForeignKey(
        "offers.Conversion",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts made so far.")
    max_attempts = models.PositiveIntegerField(default=5, help_text="Budget of this round.")
    next_attempt_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(default=timezone.now)
    in_flight = models.BooleanField(
        default=False,
        help_text="Claimed and not yet recorded; still set after the lease expired means "
        "the worker stopped during the attempt.",
    )
    next_trigger = models.CharField(
        max_length=10, default="automatic", help_text="Trigger recorded on the next attempt."
    )
    claim_token = models.CharField(
        max_length=32,
        blank=True,
        help_text="Set by each claim; only the dispatcher holding it may record an outcome.",
    )
    refire_requested = models.BooleanField(
        default=False,
        help_text="A re-fire arrived after the current claim: one more round once it ends.",
    )
    webhook_id = models.CharField(
        max_length=64, unique=True, default=new_webhook_id, help_text="Stable across retries."
    )
    last_response_code = models.IntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            # The dispatcher's claim and the sweep: pending rows by next attempt time.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=models.Q(state="pending"),
            ),
            # The overview's "used up their attempts in the window", per config: an
            # index-only scan where the pages are all-visible.
            models.Index(
                fields=["updated", "config_id"],
                name="delivery_failed",
                condition=models.Q(state="failed"),
            ),
        ]

    def __str__(self) -> str:
        return f"Delivery #{self.pk} ({self.state})"


class Dispatcher(models.Model):
    """A running dispatcher task; its heartbeat tells the doorbell not to ring again."""

    heartbeat = models.DateTimeField(default=timezone.now, db_index=True)
    started = models.DateTimeField(default=timezone.now)
    host = models.CharField(max_length=255, blank=True)
    pid = models.IntegerField(null=True, blank=True)
    cluster = models.CharField(
        max_length=300,
        blank=True,
        help_text="The qcluster process (host:pid): POSTBACK_DISPATCHERS is a cap per cluster.",
    )

    def __str__(self) -> str:
        return f"Dispatcher #{self.pk}"


class LogStatus(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"  # not sent: a partner rule said no (SPEC §12)


class Trigger(models.TextChoices):
    AUTOMATIC = "automatic", "Automatic"
    RETRY = "retry", "Retry"
    REFIRE = "refire", "Re-fire"
    TEST = "test", "Test"


class PostbackLog(models.Model):
    """One row per attempt, denormalised so that the log filters never join."""

    created = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=8, choices=LogStatus.choices)
    postback_name = models.CharField(max_length=200)
    postback_type = models.CharField(max_length=12, choices=PostbackType.choices)
    offer_id = models.BigIntegerField(null=True, blank=True)
    publisher_id = models.BigIntegerField(null=True, blank=True)
    event_id = models.BigIntegerField(null=True, blank=True)
    transaction_id = models.CharField(max_length=64, blank=True)
    response_code = models.IntegerField(default=0, help_text="0 = no HTTP response.")
    url = models.TextField()
    error = models.TextField(blank=True)
    server_response = models.TextField(blank=True)
    method = models.CharField(max_length=4, default="GET")
    attempt = models.PositiveIntegerField(default=1)
    duration_ms = models.PositiveIntegerField(default=0)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.AUTOMATIC)
    request_headers = models.JSONField(default=dict, blank=True)
    request_body = models.TextField(blank=True)
    webhook_id = models.CharField(max_length=64, blank=True)
    config_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The config's version the attempt was made with."
    )
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="logs"
    )
    config = models.ForeignKey(
        PostbackConfig, null=True, blank=True, on_delete=models.SET_NULL, related_name="logs"
    )
    conversion = models.ForeignKey(
        "offers.Conversion", null=True, blank=True, on_delete=models.SET_NULL, related_name="logs"
    )
    click = models.ForeignKey(
        "offers.Click", null=True, blank=True, on_delete=models.SET_NULL, related_name="logs"
    )

    class Meta:
        # The table keeps the name it had when the logs app owned the model: the /logs/
        # indexes (logs/migrations/0002) and the benchmarks' SQL name it.
        db_table = "logs_postbacklog"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.postback_name} #{self.pk}"


class RefireJobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class RefireJob(models.Model):
    """A "Re-fire matching" from /logs/: the deliveries behind the matching log rows,
    re-opened in chunks by a background task that counts its progress in `done`."""

    filters = models.TextField(blank=True, help_text="The §7 query string the rows matched.")
    include_succeeded = models.BooleanField(default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    state = models.CharField(
        max_length=8, choices=RefireJobState.choices, default=RefireJobState.QUEUED
    )
    total = models.PositiveIntegerField(default=0, help_text="Deliveries selected.")
    done = models.PositiveIntegerField(default=0, help_text="Deliveries processed so far.")
    reopened = models.PositiveIntegerField(
        default=0, help_text="Of those, re-opened (a config disabled meanwhile is skipped)."
    )
    last_delivery_id = models.BigIntegerField(
        default=0,
        help_text="Deliveries are taken in ID order; a resumed job goes on after this one.",
    )
    error = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Re-fire job #{self.pk} ({self.state}, {self.done}/{self.total})"


class RollupCounts(models.Model):
    """The columns a rollup row adds up, whatever the length of its bucket: plain ID
    columns (no foreign keys) so rows outlive deleted configs and grouping by publisher,
    config or offer never joins.

    Send tests are not counted (they are not deliveries). Latency columns count attempts
    by duration (`latency_le_10` = at most 10 ms, … `latency_gt_60000`); `to_success_*`
    count deliveries by the time from their conversion (or click) to the attempt that
    succeeded.
    """

    config_id = models.BigIntegerField()
    publisher_id = models.BigIntegerField()
    offer_id = models.BigIntegerField()
    attempts = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed_4xx = models.PositiveIntegerField(default=0, help_text="Any other HTTP answer < 500.")
    failed_5xx = models.PositiveIntegerField(default=0)
    timeout = models.PositiveIntegerField(default=0)
    network = models.PositiveIntegerField(
        default=0, help_text="No answer: refused, DNS, TLS, reset, interrupted, other."
    )
    blocked = models.PositiveIntegerField(default=0, help_text="Refused by the SSRF guard.")
    rejected = models.PositiveIntegerField(default=0, help_text="By a success rule (future).")
    skipped = models.PositiveIntegerField(default=0, help_text="Not sent (future).")
    first_attempts = models.PositiveIntegerField(default=0)
    first_attempt_successes = models.PositiveIntegerField(default=0)
    deliveries_succeeded = models.PositiveIntegerField(default=0)
    deliveries_failed = models.PositiveIntegerField(default=0, help_text="Failed for good.")
    latency_le_10 = models.PositiveIntegerField(default=0)
    latency_le_25 = models.PositiveIntegerField(default=0)
    latency_le_50 = models.PositiveIntegerField(default=0)
    latency_le_100 = models.PositiveIntegerField(default=0)
    latency_le_250 = models.PositiveIntegerField(default=0)
    latency_le_500 = models.PositiveIntegerField(default=0)
    latency_le_1000 = models.PositiveIntegerField(default=0)
    latency_le_2500 = models.PositiveIntegerField(default=0)
    latency_le_5000 = models.PositiveIntegerField(default=0)
    latency_le_10000 = models.PositiveIntegerField(default=0)
    latency_le_30000 = models.PositiveIntegerField(default=0)
    latency_le_60000 = models.PositiveIntegerField(default=0)
    latency_gt_60000 = models.PositiveIntegerField(default=0)
    to_success_le_1s = models.PositiveIntegerField(default=0)
    to_success_le_5s = models.PositiveIntegerField(default=0)
    to_success_le_10s = models.PositiveIntegerField(default=0)
    to_success_le_30s = models.PositiveIntegerField(default=0)
    to_success_le_1m = models.PositiveIntegerField(default=0)
    to_success_le_5m = models.PositiveIntegerField(default=0)
    to_success_le_15m = models.PositiveIntegerField(default=0)
    to_success_le_30m = models.PositiveIntegerField(default=0)
    to_success_le_1h = models.PositiveIntegerField(default=0)
    to_success_le_3h = models.PositiveIntegerField(default=0)
    to_success_le_6h = models.PositiveIntegerField(default=0)
    to_success_le_12h = models.PositiveIntegerField(default=0)
    to_success_le_24h = models.PositiveIntegerField(default=0)
    to_success_gt_24h = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class AttemptRollup(RollupCounts):
    """Attempts per config, offer and 5-minute bucket: what /api/v1/stats/ and the overview
    add up instead of scanning the log. Written by postbacks.rollups in the transaction
    that writes the attempts' log rows."""

    bucket = models.DateTimeField(help_text="Start of the 5-minute bucket (UTC).")

    class Meta:
        constraints = [
            # The upsert's ON CONFLICT target; bucket first, so it also serves the stats'
            # window scan (WHERE bucket >= window start).
            models.UniqueConstraint(
                fields=["bucket", "config_id", "offer_id"], name="attemptrollup_key"
            ),
        ]

    def __str__(self) -> str:
        return f"Config #{self.config_id}, offer #{self.offer_id} at {self.bucket:%Y-%m-%d %H:%M}"


class CoarseAttemptRollup(RollupCounts):
    """The same counts per hour, 6 hours, day and week, written beside the 5-minute rows in
    the same transaction: a 30-day window adds up about 40 rows per config and offer
    (whole weeks and days inside, hours and 5-minute rows at its edges) instead of 8,640."""

    span = models.PositiveIntegerField(help_text="Length of the bucket in seconds.")
    bucket = models.DateTimeField(help_text="Start of the bucket (UTC, aligned on its span).")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["span", "bucket", "config_id", "offer_id"],
                name="coarseattemptrollup_key",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"Config #{self.config_id}, offer #{self.offer_id}, {self.span} s "
            f"from {self.bucket:%Y-%m-%d %H:%M}"
        )


class SeriesRollup(models.Model):
    """Attempts and successes per offer per hour, 6 hours and day: the overview's chart
    (one point per interval for every config) adds up a few narrow rows per interval and
    offer instead of every config's wide coarse rows. Written beside the other rollups in
    the same transaction; the 5-minute points come from `AttemptRollup`."""

    span = models.PositiveIntegerField(help_text="Length of the bucket in seconds.")
    bucket = models.DateTimeField(help_text="Start of the bucket (UTC, aligned on its span).")
    offer_id = models.BigIntegerField()
    attempts = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["span", "bucket", "offer_id"], name="seriesrollup_key"),
        ]

    def __str__(self) -> str:
        return f"Offer #{self.offer_id}, {self.span} s from {self.bucket:%Y-%m-%d %H:%M}"
