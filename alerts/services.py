"""The one way alerts open and resolve; the engine, the rules' evaluation and the config
services all call these. Notices are sent after the commit, by alerts.notices."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from alerts.models import Alert, AlertKind, AlertRule, AlertState
from postbacks.models import PostbackConfig


def queue_notices() -> None:
    """Ring for the notices once the alert's change is committed (sync mode: inline)."""
    transaction.on_commit(lambda: async_task("alerts.tasks.send_notices"))


def open_alert(
    key: str,
    kind: str,
    summary: str,
    rule: AlertRule | None = None,
    config: PostbackConfig | None = None,
) -> Alert | None:
    """Open an alert on `key` unless one is open there already (then None: no repeats)."""
    if Alert.objects.filter(key=key, state=AlertState.OPEN).exists():
        return None
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                key=key,
                kind=kind,
                summary=summary,
                rule=rule,
                config=config,
                publisher_id=config.publisher_id if config else None,
            )
    except IntegrityError:  # opened meanwhile by another evaluator: still once
        return None
    queue_notices()
    return alert


def resolve_alert(alert: Alert, resolution: str) -> bool:
    """Resolve an open alert, with why; False if it was resolved already."""
    now = timezone.now()
    resolved = Alert.objects.filter(pk=alert.pk, state=AlertState.OPEN).update(
        state=AlertState.RESOLVED, resolved=now, resolution=resolution
    )
    if resolved:
        alert.state, alert.resolved, alert.resolution = AlertState.RESOLVED, now, resolution
        queue_notices()
    return bool(resolved)


def config_name(config: PostbackConfig, capital: bool = False) -> str:
    word = "Postback" if capital else "postback"
    return f"{word} {config.name!r} (#{config.pk}, publisher #{config.publisher_id})"


def config_disabled(config: PostbackConfig, reason: str) -> None:
    """Event: the engine disabled a config that kept failing."""
    open_alert(
        f"config_disabled:{config.pk}",
        AlertKind.CONFIG_DISABLED,
        f"{config_name(config, capital=True)} was disabled: {reason}",
        config=config,
    )


def config_enabled(config: PostbackConfig) -> None:
    for alert in Alert.objects.filter(key=f"config_disabled:{config.pk}", state=AlertState.OPEN):
        resolve_alert(alert, "The config was re-enabled.")


def deliveries_exhausted(exhausted: list[tuple[PostbackConfig, str]]) -> None:
    """Event: deliveries failed on their last allowed attempt, as (config, last error).
    One open alert per config counts them; it resolves once a delivery of that config
    succeeds again (alerts.evaluate)."""
    by_config: dict[int, tuple[PostbackConfig, int, str]] = {}
    for config, error in exhausted:
        _config, count, _error = by_config.get(config.pk, (config, 0, ""))
        by_config[config.pk] = (config, count + 1, error)
    for config, count, error in by_config.values():
        key = f"deliveries_exhausted:{config.pk}"
        added = Alert.objects.filter(key=key, state=AlertState.OPEN).update(
            count=F("count") + count
        )
        if added:
            continue
        alert = open_alert(
            key,
            AlertKind.DELIVERIES_EXHAUSTED,
            f"Deliveries of {config_name(config)} used up their attempts "
            f"(last error: {error[:300] or 'none recorded'}).",
            config=config,
        )
        if alert is not None and count > 1:
            Alert.objects.filter(pk=alert.pk).update(count=count)


def configs_recovered(config_ids: set[int]) -> None:
    """Configs whose failure streak a success just ended: their exhausted-deliveries
    alerts resolve."""
    keys = [f"deliveries_exhausted:{pk}" for pk in config_ids]
    for alert in Alert.objects.filter(key__in=keys, state=AlertState.OPEN):
        resolve_alert(alert, "A delivery of this config succeeded again.")
