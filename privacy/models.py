from django.db import models
from django.utils import timezone


class ErasureRecord(models.Model):
    """The audit record of one erasure request: who asked, when, how many values and
    rows. Never the values themselves."""

    created = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)
    requested_by = models.CharField(max_length=200, help_text="A user, or an API key's name.")
    advertiser = models.ForeignKey(
        "offers.Advertiser", null=True, blank=True, on_delete=models.SET_NULL
    )
    device_ids = models.PositiveIntegerField(default=0, help_text="How many were given.")
    user_ids = models.PositiveIntegerField(default=0, help_text="How many were given.")
    clicks = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)
    logs = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"Erasure #{self.pk} by {self.requested_by}"
