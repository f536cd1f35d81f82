"""Alert rules and the alerts they open (SPEC §11).

A rule watches configs (all, one publisher's, or one) for a condition; each config that
meets it opens one alert, which stays open (no repeats) until the condition clears and
it resolves. Events — a config auto-disabled, deliveries that used up their attempts —
open alerts of their own, without a rule. Notices go out once per opening and once per
resolution; `open_notice_at` / `resolved_notice_at` are the claims that keep it once.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from postbacks.addresses import validate_postback_url
from postbacks.models import new_secret, validate_signing_secret


class Condition(models.TextChoices):
    SUCCESS_RATE_BELOW = "success_rate_below", "First-attempt success rate below (%)"
    OLDEST_DUE_OLDER_THAN = "oldest_due_older_than", "Oldest due delivery older than (minutes)"


class AlertRuleQuerySet(models.QuerySet):
    def covering(self, config) -> "AlertRuleQuerySet":
        """Enabled rules whose scope includes the config."""
        return self.filter(enabled=True).filter(
            models.Q(config__isnull=True) | models.Q(config=config.pk),
            models.Q(publisher__isnull=True) | models.Q(publisher=config.publisher_id),
        )


class AlertRule(models.Model):
    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    publisher = models.ForeignKey(
        "offers.Publisher",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_rules",
        help_text="Empty = every publisher.",
    )
    config = models.ForeignKey(
        "postbacks.PostbackConfig",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_rules",
        help_text="Empty = every config (of the publisher, if one is chosen).",
    )
    condition = models.CharField(
        max_length=24, choices=Condition.choices, default=Condition.SUCCESS_RATE_BELOW
    )
    threshold = models.PositiveIntegerField(
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text="Percent for a success rate; minutes for the oldest due delivery.",
    )
    window_minutes = models.PositiveIntegerField(
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
        help_text="Success rate over the last N minutes (read in 5-minute buckets).",
    )
    min_attempts = models.PositiveIntegerField(
        default=20,
        validators=[MaxValueValidator(1_000_000)],
        help_text="Success rate only: fewer first attempts than this in the window say nothing.",
    )
    emails = models.JSONField(
        default=list, blank=True, help_text="Addresses to tell; empty = OPS_EMAIL."
    )
    webhook_url = models.CharField(
        max_length=2000,
        blank=True,
        validators=[validate_postback_url],
        help_text="Gets a JSON POST (Slack-compatible `text`) on open and on resolve.",
    )
    webhook_secret = models.CharField(
        max_length=200,
        default=new_secret,
        validators=[validate_signing_secret],
        help_text="Signs webhook notices (Standard Webhooks headers).",
    )
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    objects = AlertRuleQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.condition == Condition.SUCCESS_RATE_BELOW and self.threshold > 100:
            raise ValidationError({"threshold": "A success rate threshold is a percent: 1–100."})
        config = self.config if self.config_id else None
        if config is not None and self.publisher_id and config.publisher_id != self.publisher_id:
            raise ValidationError({"config": "This config belongs to another publisher."})
        if not isinstance(self.emails, list) or not all(isinstance(e, str) for e in self.emails):
            raise ValidationError({"emails": "A list of email addresses."})

    def describe(self) -> str:
        """The condition in words, e.g. first-attempt success < 80 % over 15 min (≥ 20)."""
        if self.condition == Condition.SUCCESS_RATE_BELOW:
            return (
                f"first-attempt success < {self.threshold} % over {self.window_minutes} min "
                f"(at least {self.min_attempts} attempts)"
            )
        return f"oldest due delivery older than {self.threshold} min"

    def scope(self) -> str:
        if self.config is not None:
            return f"config {self.config.name} (#{self.config_id})"
        if self.publisher is not None:
            return f"configs of publisher {self.publisher.name} (#{self.publisher_id})"
        return "every config"


class AlertKind(models.TextChoices):
    CONDITION = "condition", "Rule condition"
    CONFIG_DISABLED = "config_disabled", "Config auto-disabled"
    DELIVERIES_EXHAUSTED = "deliveries_exhausted", "Deliveries used up their attempts"


class AlertState(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Alert(models.Model):
    rule = models.ForeignKey(
        AlertRule,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
        help_text="Empty for events (auto-disable, attempts used up).",
    )
    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    config = models.ForeignKey(
        "postbacks.PostbackConfig",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
    )
    publisher_id = models.BigIntegerField(null=True, blank=True)
    key = models.CharField(
        max_length=100, help_text="What is alerted on; at most one open alert per key."
    )
    state = models.CharField(max_length=8, choices=AlertState.choices, default=AlertState.OPEN)
    opened = models.DateTimeField(default=timezone.now)
    resolved = models.DateTimeField(null=True, blank=True)
    summary = models.TextField()
    resolution = models.TextField(blank=True, help_text="Why it resolved.")
    count = models.PositiveIntegerField(
        default=1, help_text="Events while open (e.g. deliveries that used up their attempts)."
    )
    open_notice_at = models.DateTimeField(null=True, blank=True)
    resolved_notice_at = models.DateTimeField(null=True, blank=True)
    notices = models.TextField(blank=True, help_text="What each notice channel answered.")

    class Meta:
        ordering = ["-opened", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=models.Q(state="open"), name="alert_open_once"
            ),
        ]
        indexes = [models.Index(fields=["state", "-opened"], name="alert_state_opened")]

    def __str__(self) -> str:
        return f"Alert #{self.pk} ({self.state}): {self.summary}"
