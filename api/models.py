"""Idempotency records: the first answer to a request sent with an Idempotency-Key."""

from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

IDEMPOTENCY_TTL = timedelta(hours=24)


class IdempotencyRecordQuerySet(models.QuerySet):
    def live(self, now=None):
        return self.filter(created__gt=(now or timezone.now()) - IDEMPOTENCY_TTL)

    def expired(self, now=None):
        return self.filter(created__lte=(now or timezone.now()) - IDEMPOTENCY_TTL)


class IdempotencyRecord(models.Model):
    """A retried request with the same key (per caller) gets this stored answer back.

    Only successful answers are stored: a request that failed changed nothing, so a retry
    may run it again.
    """

    caller = models.CharField(max_length=64, help_text="api-key:<id> or user:<id>.")
    key = models.CharField(max_length=255, help_text="The Idempotency-Key header.")
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of method, path and body: a reused key must match."
    )
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(encoder=DjangoJSONEncoder)
    created = models.DateTimeField(default=timezone.now)

    objects = IdempotencyRecordQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="idempotency_caller_key"),
        ]
        indexes = [
            # The purge of records older than IDEMPOTENCY_TTL.
            models.Index(fields=["created"], name="idempotency_created"),
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.key}"
