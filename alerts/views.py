"""`/alerts/` (staff): what is alerting now, what alerted lately, and the rules."""

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.access import staff_required
from alerts.models import Alert, AlertKind, AlertRule, AlertState
from health.views import logs_link
from offers.models import Publisher

RECENT = timedelta(days=7)
RECENT_LIMIT = 100


@staff_required
def alert_list(request: HttpRequest) -> HttpResponse:
    open_alerts = list(Alert.objects.filter(state=AlertState.OPEN).select_related("config", "rule"))
    recent = list(
        Alert.objects.filter(state=AlertState.RESOLVED, resolved__gte=timezone.now() - RECENT)
        .select_related("config", "rule")
        .order_by("-resolved")[:RECENT_LIMIT]
    )
    publishers = Publisher.objects.in_bulk(
        {alert.publisher_id for alert in open_alerts + recent if alert.publisher_id}
    )
    context = {
        "open_alerts": [_row(alert, publishers) for alert in open_alerts],
        "recent": [_row(alert, publishers) for alert in recent],
        "rules": AlertRule.objects.select_related("publisher", "config"),
    }
    return render(request, "alerts/list.html", context)


def _row(alert: Alert, publishers: dict) -> dict:
    return {
        "alert": alert,
        "publisher": publishers.get(alert.publisher_id),
        "logs": _logs(alert),
    }


def _logs(alert: Alert) -> str:
    """The config's attempts from a little before the alert opened."""
    if alert.config is None:
        return ""
    lead = timedelta(minutes=alert.rule.window_minutes if alert.rule else 15)
    filters = {
        "postback_name": alert.config.name,
        "publisher_id": str(alert.config.publisher_id),
        "created_after": f"{alert.opened - lead:%Y-%m-%dT%H:%M:%SZ}",
    }
    if (
        alert.kind != AlertKind.CONDITION
        or alert.rule is None
        or alert.rule.condition == ("success_rate_below")
    ):
        filters["status"] = "failed"
    return logs_link(**filters)
