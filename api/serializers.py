"""JSON shapes of the API (SPEC §8): field names as specified, enums lowercase."""

import copy
from typing import cast

import pycountry
from django.core.validators import RegexValidator
from django.db import models
from rest_framework import serializers

from alerts.models import Alert, AlertRule
from offers.models import (
    REJECTION_REASON_MAX_LENGTH,
    Advertiser,
    Conversion,
    Offer,
    OfferEvent,
    Publisher,
    validate_cidr_list,
)
from postbacks import rules
from postbacks.addresses import validate_postback_url
from postbacks.models import Delivery, PostbackConfig, PostbackLog, validate_signing_secret

BULK_REFIRE_LIMIT = 1000
# DRF trims text, so a value of spaces only is blank, and refused; this pattern (in the
# schema, through the validator) tells schema-driven clients. Besides \s it lists what
# Python's strip() drops and ECMA-262's \s does not match (\x1c-\x1f, \x85), so that it
# means the same in both.
NOT_BLANK = RegexValidator(r"[^\s\x1c-\x1f\x85]", "Cannot be only spaces.")
CURRENCY_CODE = RegexValidator(r"\A[A-Za-z]{3}\Z", "Give a three-letter ISO 4217 code.")


class ErrorSerializer(serializers.Serializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Each field or parameter that was wrong, with its messages.",
    )


class ConfigRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class DeliverySerializer(serializers.ModelSerializer):
    config = ConfigRefSerializer(read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "config",
            "postback_type",
            "state",
            "attempts",
            "next_attempt_at",
            "last_response_code",
            "last_error",
            "webhook_id",
        ]
        read_only_fields = fields


class ConversionSerializer(serializers.ModelSerializer):
    offer = serializers.IntegerField(source="offer_id", read_only=True)
    publisher = serializers.IntegerField(source="publisher_id", read_only=True, allow_null=True)
    event = serializers.IntegerField(source="event_id", read_only=True, allow_null=True)
    deliveries = DeliverySerializer(many=True, read_only=True)

    class Meta:
        model = Conversion
        fields = [
            "id",
            "transaction_id",
            "offer",
            "publisher",
            "event",
            "status",
            "revenue",
            "payout",
            "currency",
            "order_id",
            "rejection_reason",
            "consent",
            "created",
            "deliveries",
        ]
        read_only_fields = fields


class RefireSerializer(serializers.Serializer):
    only_failed = serializers.BooleanField(
        default=True, help_text="Leave deliveries that already succeeded alone (default true)."
    )


class BulkRefireSerializer(RefireSerializer):
    transaction_ids = serializers.ListField(
        child=serializers.CharField(min_length=1, max_length=64, validators=[NOT_BLANK]),
        min_length=1,
        max_length=BULK_REFIRE_LIMIT,
        help_text=f"Up to {BULK_REFIRE_LIMIT} transaction IDs; all their conversions re-fire.",
    )


class QueuedSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="Deliveries queued to fire again.")


class BulkQueuedSerializer(QueuedSerializer):
    not_found = serializers.ListField(
        child=serializers.CharField(),
        help_text="Transaction IDs with no conversion of yours (unknown or another advertiser's).",
    )


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(
        min_length=1,
        max_length=REJECTION_REASON_MAX_LENGTH,
        validators=[NOT_BLANK],
        help_text="Why the conversion is rejected; sent to publishers as {rejection_reason}.",
    )


class PostbackLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = PostbackLog
        fields = [
            "id",
            "created",
            "status",
            "postback_name",
            "postback_type",
            "offer_id",
            "publisher_id",
            "event_id",
            "transaction_id",
            "response_code",
            "url",
            "error",
            "server_response",
            "method",
            "attempt",
            "duration_ms",
            "trigger",
        ]
        read_only_fields = fields


class TestAttemptSerializer(serializers.ModelSerializer):
    log_id = serializers.IntegerField(source="id", read_only=True)

    class Meta:
        model = PostbackLog
        fields = [
            "log_id",
            "status",
            "url",
            "method",
            "response_code",
            "error",
            "server_response",
            "duration_ms",
        ]
        read_only_fields = fields


class CleanedModelSerializer(serializers.ModelSerializer):
    """Runs the model's clean() on the would-be instance, so the API keeps the model's rules."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = copy.copy(self.instance) if self.instance is not None else self.Meta.model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        instance.clean()  # DRF turns a Django ValidationError into a 400 on the fields
        return attrs


def name_field(model: type[models.Model]) -> serializers.CharField:
    """A model's `name`: 1 to the column's length, with a character other than a space."""
    column = cast(models.CharField, model._meta.get_field("name"))
    return serializers.CharField(min_length=1, max_length=column.max_length, validators=[NOT_BLANK])


class AdvertiserSerializer(CleanedModelSerializer):
    name = name_field(Advertiser)
    ip_allowlist = serializers.ListField(
        child=serializers.CharField(min_length=1, max_length=50, validators=[NOT_BLANK]),
        required=False,
        max_length=1000,
        validators=[validate_cidr_list],
        help_text='CIDRs allowed to call /conversion/, e.g. ["203.0.113.0/24"]; empty = any.',
    )

    class Meta:
        model = Advertiser
        fields = ["id", "name", "ip_allowlist", "default_offer"]

    def validate_default_offer(self, offer):
        if offer is not None and (self.instance is None or offer.advertiser_id != self.instance.pk):
            raise serializers.ValidationError("Choose one of this advertiser's own offers.")
        return offer


def money_field(model: type[models.Model], name: str) -> serializers.DecimalField:
    """An amount ≥ 0 within the column's own digits, so the limits are written down once."""
    column = cast(models.DecimalField, model._meta.get_field(name))
    return serializers.DecimalField(
        max_digits=column.max_digits,
        decimal_places=column.decimal_places,
        min_value=0,
        required=False,
    )


class OfferSerializer(CleanedModelSerializer):
    name = name_field(Offer)
    revenue = money_field(Offer, "revenue")
    payout = money_field(Offer, "payout")
    currency = serializers.CharField(
        min_length=3, max_length=3, required=False, validators=[CURRENCY_CODE]
    )

    class Meta:
        model = Offer
        fields = [
            "id",
            "advertiser",
            "name",
            "status",
            "destination_url",
            "revenue",
            "payout",
            "currency",
            "attribution_window_days",
        ]

    def validate_currency(self, value: str) -> str:
        code = value.upper()
        if pycountry.currencies.get(alpha_3=code) is None:
            raise serializers.ValidationError(f"{value!r} is not an ISO 4217 currency code.")
        return code


class OfferEventSerializer(CleanedModelSerializer):
    name = name_field(OfferEvent)
    revenue = money_field(OfferEvent, "revenue")
    payout = money_field(OfferEvent, "payout")

    class Meta:
        model = OfferEvent
        fields = ["id", "offer", "name", "revenue", "payout"]


class PublisherSerializer(CleanedModelSerializer):
    name = name_field(Publisher)

    class Meta:
        model = Publisher
        fields = ["id", "name", "status"]


class PostbackConfigSerializer(CleanedModelSerializer):
    name = name_field(PostbackConfig)

    class Meta:
        model = PostbackConfig
        fields = [
            "id",
            "name",
            "publisher",
            "offer",
            "postback_type",
            "event",
            "url",
            "method",
            "body",
            "content_type",
            "enabled",
            "timeout_seconds",
            "max_attempts",
            "secret",
            "fire_on_pending",
            "delay_seconds",
            "disable_after_failures",
            "accept_window_hours",
            "success_rule",
            "headers",
            "event_names",
            "secret_parameters",
            "on_denied_consent",
            "version",
        ]
        read_only_fields = ["version"]

    def to_representation(self, instance):
        """Credential-like header values read `****`; sending `****` back keeps them."""
        data = super().to_representation(instance)
        data["headers"] = rules.masked_headers(data.get("headers") or {})
        return data


class PortalPostbackConfigSerializer(PostbackConfigSerializer):
    """A config as its publisher's portal users see it: the signing secret and the URL's
    secret parameters read `****`; sending `****` back keeps the stored values."""

    class Meta(PostbackConfigSerializer.Meta):
        read_only_fields = [
            name
            for name in PostbackConfigSerializer.Meta.fields
            if name not in PostbackConfig.PUBLISHER_EDITABLE_FIELDS
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["url"] = rules.masked_url(instance.url, instance.secret_parameters or [])
        data["secret"] = rules.MASK if instance.secret else ""
        return data


# /api/v1/stats/ (SPEC §11): the figures postbacks.stats computes, for the schema.
class StatsQuerySerializer(serializers.Serializer):
    window = serializers.ChoiceField(choices=["1h", "24h", "7d", "30d"], default="24h")
    by = serializers.ChoiceField(choices=["publisher", "config", "offer"], default="publisher")


class StatsFailuresSerializer(serializers.Serializer):
    _4xx = serializers.IntegerField(label="4xx", help_text="Other HTTP answers below 500.")
    _5xx = serializers.IntegerField(label="5xx")
    timeout = serializers.IntegerField()
    network = serializers.IntegerField(help_text="No answer: refused, DNS, TLS, reset…")
    blocked = serializers.IntegerField(help_text="Refused by the SSRF guard.")
    rejected = serializers.IntegerField(help_text="Refused by a success rule.")
    skipped = serializers.IntegerField(help_text="Not sent.")

    def get_fields(self):
        # "4xx" is not a Python name: declare it as _4xx and publish it under its name.
        fields = super().get_fields()
        return {"4xx": fields.pop("_4xx"), "5xx": fields.pop("_5xx"), **fields}


class StatsPercentilesSerializer(serializers.Serializer):
    p50 = serializers.IntegerField(allow_null=True)
    p95 = serializers.IntegerField(allow_null=True)


class StatsGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Publisher, config or offer ID, as grouped by.")
    name = serializers.CharField(allow_null=True, help_text="Null when it was deleted.")
    attempts = serializers.IntegerField()
    deliveries_finished = serializers.IntegerField()
    first_attempt_success_rate = serializers.FloatField(allow_null=True, min_value=0, max_value=1)
    success_rate = serializers.FloatField(allow_null=True, min_value=0, max_value=1)
    failures = StatsFailuresSerializer()
    latency_ms = StatsPercentilesSerializer()
    conversion_to_success_ms = StatsPercentilesSerializer()


class StatsBacklogSerializer(serializers.Serializer):
    due = serializers.IntegerField()
    oldest_due_seconds = serializers.IntegerField(allow_null=True)
    retrying = serializers.IntegerField()


class StatsPointSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()


class StatsSerializer(serializers.Serializer):
    window = serializers.ChoiceField(choices=["1h", "24h", "7d", "30d"])
    by = serializers.ChoiceField(choices=["publisher", "config", "offer"])
    groups = StatsGroupSerializer(many=True)
    backlog = StatsBacklogSerializer()
    series = StatsPointSerializer(many=True)


# Alerts (SPEC §11): rules for staff keys, and the alerts they opened (read-only).
class AlertRuleSerializer(CleanedModelSerializer):
    name = name_field(AlertRule)
    emails = serializers.ListField(
        child=serializers.EmailField(max_length=254),
        required=False,
        max_length=50,
        help_text="Addresses to tell; empty = OPS_EMAIL.",
    )
    webhook_url = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        validators=[validate_postback_url],
        help_text="Receives a signed JSON POST with a Slack-compatible `text` on open and "
        "on resolve; refused like a postback URL if it names a forbidden address.",
    )
    webhook_secret = serializers.CharField(
        required=False,
        max_length=200,
        validators=[validate_signing_secret],
        help_text="whsec_… (Standard Webhooks) signing the webhook; generated when omitted.",
    )

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "enabled",
            "publisher",
            "config",
            "condition",
            "threshold",
            "window_minutes",
            "min_attempts",
            "emails",
            "webhook_url",
            "webhook_secret",
        ]


class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alert
        fields = ["id", "rule", "kind", "state", "opened", "resolved", "summary", "resolution"]
        fields += ["config", "publisher_id", "count"]
        read_only_fields = fields


# /api/v1/reports/reconciliation/ (SPEC §13), for the schema.
class ReconciliationCountsSerializer(serializers.Serializer):
    conversions = serializers.IntegerField(help_text="Base conversions (no event).")
    events = serializers.IntegerField()
    rejected = serializers.IntegerField()
    revenue = serializers.DecimalField(max_digits=16, decimal_places=4)
    payout = serializers.DecimalField(max_digits=16, decimal_places=4)
    first_attempt = serializers.IntegerField(help_text="Deliveries that succeeded at once.")
    after_retries = serializers.IntegerField(help_text="Deliveries that succeeded later.")
    failed = serializers.IntegerField()
    pending = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text="Held back by a partner rule (too late).")
    cancelled = serializers.IntegerField(help_text="Their config was disabled first.")
    no_config = serializers.IntegerField(help_text="Conversions that no config matched.")


class ReconciliationRowSerializer(ReconciliationCountsSerializer):
    day = serializers.DateField()
    publisher_id = serializers.IntegerField(allow_null=True)
    publisher = serializers.CharField(help_text="The publisher's name.")


class ReconciliationSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    publisher = serializers.IntegerField(allow_null=True)
    rows = ReconciliationRowSerializer(many=True)
    totals = ReconciliationCountsSerializer()


class ReconciliationMatchRequestSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The publisher's report: CSV, UTF-8, header row, ≤ 50 MB."
    )
    publisher = serializers.PrimaryKeyRelatedField(queryset=Publisher.objects.all())
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    transaction_id_column = serializers.CharField(max_length=200)
    event_column = serializers.CharField(max_length=200, required=False, default="")
    time_column = serializers.CharField(
        max_length=200,
        required=False,
        default="",
        help_text="Rows outside the period are left out.",
    )


class OursOnlySerializer(serializers.Serializer):
    transaction_id = serializers.CharField()
    event = serializers.CharField()
    conversion_id = serializers.IntegerField()
    reason = serializers.ChoiceField(
        choices=["no_config", "config_disabled", "failed", "pending", "skipped", "delivered"]
    )
    detail = serializers.CharField()


class TheirsOnlySerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line of the uploaded file (the header is line 1).")
    transaction_id = serializers.CharField()


class ReconciliationMatchSerializer(serializers.Serializer):
    both = serializers.IntegerField()
    ours_only = OursOnlySerializer(many=True)
    theirs_only = TheirsOnlySerializer(many=True)


# /api/v1/privacy/erase/ (SPEC §14).
class ErasureRequestSerializer(serializers.Serializer):
    device_ids = serializers.ListField(
        child=serializers.CharField(min_length=1, max_length=255),
        required=False,
        default=list,
        max_length=1000,
        help_text="google_aid, ios_ifa, ios_ifv, os_id or windows_aid values.",
    )
    user_ids = serializers.ListField(
        child=serializers.CharField(min_length=1, max_length=255),
        required=False,
        default=list,
        max_length=1000,
    )

    def validate(self, attrs):
        if not attrs["device_ids"] and not attrs["user_ids"]:
            raise serializers.ValidationError(
                {"device_ids": ["Give device_ids or user_ids (or both) to erase."]}
            )
        return attrs


class ErasureSerializer(serializers.Serializer):
    clicks = serializers.IntegerField()
    conversions = serializers.IntegerField()
    logs = serializers.IntegerField()
    erasure = serializers.IntegerField(help_text="The audit record's ID.")
    in_background = serializers.BooleanField(
        help_text="True when the log rows are many: the worker erases them in batches."
    )
