"""The postback log: one row per attempt, denormalised so filters never join."""

from django.db import models
from django.utils import timezone

from postbacks.models import PostbackType

SERVER_RESPONSE_LIMIT = 64 * 1024
TRUNCATION_MARKER = "\n…[truncated at 64 KiB]"


class LogStatus(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILED = "failed", "Failed"


class Trigger(models.TextChoices):
    AUTOMATIC = "automatic", "Automatic"
    RETRY = "retry", "Retry"
    REFIRE = "refire", "Re-fire"
    TEST = "test", "Test"


class PostbackLog(models.Model):
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
    delivery = models.ForeignKey(
        "postbacks.Delivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="logs"
    )
    config = models.ForeignKey(
        "postbacks.PostbackConfig",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="logs",
    )
    conversion = models.ForeignKey(
        "offers.Conversion", null=True, blank=True, on_delete=models.SET_NULL, related_name="logs"
    )
    click = models.ForeignKey(
        "offers.Click", null=True, blank=True, on_delete=models.SET_NULL, related_name="logs"
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.postback_name} #{self.pk}"


def truncate_response(body: str) -> str:
    if len(body) <= SERVER_RESPONSE_LIMIT:
        return body
    return body[:SERVER_RESPONSE_LIMIT] + TRUNCATION_MARKER
