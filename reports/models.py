from django.conf import settings
from django.db import models
from django.utils import timezone


class Reconciliation(models.Model):
    """The answer of one two-sided reconciliation, kept so that its lists download as
    CSV; the uploaded file itself is not kept, and a failed upload keeps nothing."""

    created = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    publisher = models.ForeignKey("offers.Publisher", on_delete=models.CASCADE)
    date_from = models.DateField()
    date_to = models.DateField()
    filename = models.CharField(max_length=255, blank=True)
    columns = models.JSONField(default=dict, help_text="Which column held what.")
    both = models.PositiveIntegerField(default=0)
    in_both = models.JSONField(default=list)
    ours_only = models.JSONField(default=list)
    theirs_only = models.JSONField(default=list)
    outside_period = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"Reconciliation #{self.pk} of publisher #{self.publisher_id}"
