"""JSON shapes of the API (SPEC §8): field names as specified, enums lowercase."""

import copy

import pycountry
from rest_framework import serializers

from logs.models import PostbackLog
from offers.models import Advertiser, Conversion, Offer, OfferEvent, Publisher, validate_cidr_list
from postbacks.models import Delivery, PostbackConfig

BULK_REFIRE_LIMIT = 1000
REASON_MAX_LENGTH = 1000


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
        child=serializers.CharField(max_length=64),
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
        max_length=REASON_MAX_LENGTH,
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


class AdvertiserSerializer(CleanedModelSerializer):
    ip_allowlist = serializers.ListField(
        child=serializers.CharField(max_length=50),
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


class OfferSerializer(CleanedModelSerializer):
    revenue = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, required=False)
    payout = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, required=False)
    currency = serializers.CharField(min_length=3, max_length=3, required=False)

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
    revenue = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, required=False)
    payout = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, required=False)

    class Meta:
        model = OfferEvent
        fields = ["id", "offer", "name", "revenue", "payout"]


class PublisherSerializer(CleanedModelSerializer):
    class Meta:
        model = Publisher
        fields = ["id", "name", "status"]


class PostbackConfigSerializer(CleanedModelSerializer):
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
        ]
