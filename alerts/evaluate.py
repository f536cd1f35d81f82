"""Every minute (django-q2 schedule): each enabled rule against the rollups and the
delivery table, opening an alert per config that meets its condition and resolving the
ones whose condition cleared; events resolve when what raised them is over."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Min, Q, QuerySet, Sum
from django.utils import timezone

from alerts.models import Alert, AlertKind, AlertRule, AlertState, Condition
from alerts.services import config_name, open_alert, resolve_alert
from postbacks.models import Delivery, PostbackConfig
from postbacks.rollups import BUCKET, bucket_start, summed


@dataclass
class Reading:
    """One config's figure under a rule, and whether it meets the condition."""

    config_id: int
    breached: bool
    words: str


def evaluate_rules(now: datetime | None = None) -> None:
    now = now or timezone.now()
    for rule in AlertRule.objects.filter(enabled=True):
        _apply(rule, _readings(rule, now))
    for alert in Alert.objects.filter(kind=AlertKind.CONDITION, state=AlertState.OPEN).exclude(
        rule__enabled=True
    ):
        resolve_alert(alert, "The rule was disabled or deleted.")
    _resolve_events()


def _readings(rule: AlertRule, now: datetime) -> dict[int, Reading]:
    if rule.condition == Condition.SUCCESS_RATE_BELOW:
        return _success_rates(rule, now)
    return _oldest_due(rule, now)


def _scoped(queryset: QuerySet, rule: AlertRule, publisher_field: str) -> QuerySet:
    if rule.config_id:
        queryset = queryset.filter(config_id=rule.config_id)
    if rule.publisher_id:
        queryset = queryset.filter(**{publisher_field: rule.publisher_id})
    return queryset


def _success_rates(rule: AlertRule, now: datetime) -> dict[int, Reading]:
    since = bucket_start(now - timedelta(minutes=rule.window_minutes))
    scope = Q()
    if rule.config_id:
        scope &= Q(config_id=rule.config_id)
    if rule.publisher_id:
        scope &= Q(publisher_id=rule.publisher_id)
    sums = {"first": Sum("first_attempts"), "ok": Sum("first_attempt_successes")}
    rows = summed(since, bucket_start(now) + BUCKET, sums, "config_id", scope)
    readings = {}
    for config_id, row in rows.items():
        first, ok = row["first"], row["ok"]
        span = f"over the last {rule.window_minutes} min"
        if first < max(rule.min_attempts, 1):
            words = f"only {first} first attempts {span} (fewer than {rule.min_attempts})"
            readings[config_id] = Reading(config_id, False, words)
            continue
        rate = ok * 100 / first
        words = f"first-attempt success {rate:.0f} % ({ok} of {first}) {span}"
        readings[config_id] = Reading(config_id, rate < rule.threshold, words)
    return readings


def _oldest_due(rule: AlertRule, now: datetime) -> dict[int, Reading]:
    rows = (
        _scoped(Delivery.objects.due(now), rule, "config__publisher_id")
        .values("config_id")
        .annotate(oldest=Min("next_attempt_at"))
    )
    readings = {}
    for row in rows:
        minutes = (now - row["oldest"]).total_seconds() / 60
        words = f"the oldest due delivery has waited {minutes:.0f} min"
        readings[row["config_id"]] = Reading(row["config_id"], minutes > rule.threshold, words)
    return readings


def _apply(rule: AlertRule, readings: dict[int, Reading]) -> None:
    open_alerts = {
        alert.config_id: alert
        for alert in Alert.objects.filter(rule=rule, kind=AlertKind.CONDITION, state="open")
    }
    breached = [reading for reading in readings.values() if reading.breached]
    configs = PostbackConfig.objects.in_bulk(
        [reading.config_id for reading in breached if reading.config_id not in open_alerts]
    )
    for reading in breached:
        config = configs.get(reading.config_id)
        if config is None:  # already open, or the config was deleted
            continue
        open_alert(
            f"rule:{rule.pk}:config:{config.pk}",
            AlertKind.CONDITION,
            f"{config_name(config, capital=True)}: {reading.words}. Rule {rule.name!r}: "
            f"{rule.describe()}.",
            rule=rule,
            config=config,
        )
    for config_id, alert in open_alerts.items():
        current = readings.get(config_id) if config_id is not None else None
        if current is None:
            resolve_alert(alert, _cleared_without_reading(rule))
        elif not current.breached:
            resolve_alert(alert, f"Cleared: {current.words}.")


def _cleared_without_reading(rule: AlertRule) -> str:
    if rule.condition == Condition.SUCCESS_RATE_BELOW:
        return f"Cleared: no attempts over the last {rule.window_minutes} min."
    return "Cleared: no delivery is due."


def _resolve_events() -> None:
    for alert in Alert.objects.filter(kind=AlertKind.CONFIG_DISABLED, state=AlertState.OPEN):
        if (
            alert.config_id is None
            or PostbackConfig.objects.filter(pk=alert.config_id, enabled=True).exists()
        ):
            resolve_alert(alert, "The config was re-enabled or deleted.")
    # Exhausted deliveries resolve on the config's next success (services.config_recovered).
    for alert in Alert.objects.filter(
        kind=AlertKind.DELIVERIES_EXHAUSTED, state=AlertState.OPEN, config__isnull=True
    ):
        resolve_alert(alert, "The config was deleted.")
