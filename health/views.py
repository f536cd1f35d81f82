"""`/`: the delivery overview (SPEC §11) — what is failing now, since when, for whom.

Every figure comes from the rollups (postbacks.stats), never from scanning the log
table, and links to /logs/ with the filters and time range behind it.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.access import portal_home_for_portal_users, staff_required
from alerts.models import Alert, AlertState
from health.chart import attempts_chart
from health.table import group_rows
from postbacks import stats
from postbacks.models import Delivery, DeliveryState, PostbackConfig
from postbacks.services import enable_config

# (label, the /logs/ filters of its attempts).
FAILURE_FILTERS: dict[str, dict[str, str] | None] = {
    "4xx": {"status": "failed", "error__contains": "HTTP 4"},
    "5xx": {"status": "failed", "error__contains": "HTTP 5"},
    "timeout": {"status": "failed", "error__contains": "Timeout"},
    "network": {"status": "failed", "response_code": "0"},
    "blocked": {"status": "failed", "error__contains": "Blocked"},
    "rejected": {"status": "failed", "error__contains": "Rejected by publisher"},
    "skipped": {"status": "skipped"},
}
FAILURE_QUERIES = {name: urlencode(filters) for name, filters in FAILURE_FILTERS.items() if filters}
GROUP_LABELS = {"publisher": "Publisher", "config": "Postback config", "offer": "Offer"}
# Groups shown unless ?rows=all (the most failed attempts first, so the broken ones lead).
ROWS_SHOWN = 50
# Needs attention lists this many per kind, the worst first, and links to the rest.
ATTENTION_SHOWN = 10


@dataclass
class Figure:
    value: object
    link: str = ""


@cache
def _logs_path() -> str:
    return reverse("logs:list")


def logs_link(**filters: str) -> str:
    return _logs_path() + "?" + urlencode(filters)


@portal_home_for_portal_users
@staff_required
def overview(request: HttpRequest) -> HttpResponse:
    window = request.GET.get("window", stats.DEFAULT_WINDOW)
    by = request.GET.get("by", stats.DEFAULT_BY)
    every_row = request.GET.get("rows", "") == "all"
    errors = _parameter_errors(window, by, request.GET.get("rows", ""))
    if errors:
        context = {"errors": errors, "windows": stats.WINDOWS, "groupings": GROUP_LABELS}
        return render(request, "health/overview.html", context, status=400)
    figures = stats.figures(window, by, worst=True, limit=None if every_row else ROWS_SHOWN)
    start = figures.start
    since = {"created_after": f"{start:%Y-%m-%dT%H:%M:%SZ}"}
    scopes = _group_scopes(figures.groups, by)
    rows = [_group_row(group, {**scopes.get(group["id"], {}), **since}) for group in figures.groups]
    disabled, exhausted = _disabled_configs(), _exhausted(start, since)
    context = {
        "window": window,
        "by": by,
        "windows": stats.WINDOWS,
        "groupings": GROUP_LABELS,
        "group_label": GROUP_LABELS[by],
        "start": start,
        "configured": PostbackConfig.objects.exists(),
        "total": _group_row(figures.total, since),
        "group_rows": group_rows(rows),
        "rows_shown": len(rows),
        "groups_count": figures.group_count,
        "every_row": every_row,
        "backlog": figures.backlog,
        "chart": attempts_chart(figures.series, _config_edits(start)),
        "disabled_configs": disabled[:ATTENTION_SHOWN],
        "disabled_count": disabled.count(),
        "exhausted": exhausted,
        "exhausted_link": logs_link(status="failed", **since),
        "open_alerts": _open_alerts(),
        "query": request.GET.urlencode(),
    }
    return render(request, "health/overview.html", context)


def _parameter_errors(window: str, by: str, rows: str) -> dict[str, str]:
    errors = {}
    if rows not in ("", "all"):
        errors["rows"] = f"{rows!r} is not a choice: use rows=all, or leave it out."
    if window not in stats.WINDOWS:
        errors["window"] = f"{window!r} is not a window: use {', '.join(stats.WINDOWS)}."
    if by not in stats.GROUPINGS:
        errors["by"] = f"{by!r} is not a grouping: use {', '.join(stats.GROUPINGS)}."
    return errors


def _group_scopes(groups: list[dict], by: str) -> dict[int, dict[str, str]]:
    """The /logs/ filters that select each group's attempts."""
    if by != "config":
        column = "publisher_id" if by == "publisher" else "offer_id"
        return {group["id"]: {column: str(group["id"])} for group in groups}
    # The log has no config column to filter on: its name and publisher select its rows.
    configs = PostbackConfig.objects.only("name", "publisher_id").in_bulk(
        [group["id"] for group in groups]
    )
    return {
        pk: {"postback_name": config.name, "publisher_id": str(config.publisher_id)}
        for pk, config in configs.items()
    }


def duration(ms: int | None) -> str:
    """84 ms, 2.5 s, 12 min, 3 h: how long, in the unit an ops person reads at a glance."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:g} s"
    if ms < 3_600_000:
        return f"{ms / 60_000:.0f} min"
    return f"{ms / 3_600_000:.0f} h"


def _pair(percentiles: dict) -> str:
    return f"{duration(percentiles['p50'])} / {duration(percentiles['p95'])}"


def _group_row(group: dict, scope: dict[str, str]) -> dict:
    # Every link is the group's scope plus a few constant filters: encode each part once
    # (hundreds of links per page).
    scoped = logs_link(**scope)
    failures = {
        name: Figure(count, f"{scoped}&{query}" if query and count else "")
        for name, count in group["failures"].items()
        for query in [FAILURE_QUERIES.get(name)]
    }
    return {
        "group": group,
        "attempts": Figure(group["attempts"], scoped),
        "first_attempt": Figure(group["first_attempt_success_rate"], scoped),
        "success": Figure(group["success_rate"], f"{scoped}&status=success"),
        "failed": Figure(sent_and_failed(group), f"{scoped}&status=failed"),
        "failures": failures,
        "latency": _pair(group["latency_ms"]),
        "to_success": _pair(group["conversion_to_success_ms"]),
    }


def sent_and_failed(group: dict) -> int:
    """Failed attempts (Status Failed): every failure class but Skipped, never sent."""
    return sum(count for name, count in group["failures"].items() if name != "skipped")


def _config_edits(start: datetime) -> list[tuple[datetime, str]]:
    edited = PostbackConfig.objects.filter(updated__gte=start).only("name", "updated")
    return [(config.updated, f"{config.name} (#{config.pk}) edited") for config in edited[:50]]


def _disabled_configs() -> QuerySet[PostbackConfig]:
    """Configs that were disabled after repeated failures (they carry the reason), the
    latest first; the page draws the first ATTENTION_SHOWN and counts the rest."""
    return (
        PostbackConfig.objects.filter(enabled=False)
        .exclude(disabled_reason="")
        .select_related("publisher")
        .only("name", "disabled_reason", "updated", "publisher__name")
        .order_by("-updated")
    )


@dataclass
class Exhausted:
    """Deliveries that failed for good in the window: the configs with the most first."""

    shown: list[dict]
    configs: int
    deliveries: int


def _exhausted(start: datetime, since: dict[str, str]) -> Exhausted:
    """Configs with deliveries that failed for good in the window and have not been
    re-fired since (the delivery table's partial index `delivery_failed` serves it);
    the first ATTENTION_SHOWN with their configs, the rest counted."""
    rows = (
        Delivery.objects.filter(state=DeliveryState.FAILED, updated__gte=start)
        .values("config_id")
        .annotate(failed=Count("pk"))
        .order_by("-failed", "config_id")
    )
    failed = [(row["failed"], row["config_id"]) for row in rows]
    top = failed[:ATTENTION_SHOWN]
    configs = PostbackConfig.objects.only("name", "publisher_id").in_bulk([pk for _, pk in top])
    shown = []
    for count, pk in top:
        config = configs.get(pk)
        if config is None:
            continue
        filters = {
            "postback_name": config.name,
            "publisher_id": str(config.publisher_id),
            "status": "failed",
            **since,
        }
        shown.append({"config": config, "failed": count, "link": logs_link(**filters)})
    return Exhausted(shown, len(failed), sum(count for count, _ in failed))


def _open_alerts() -> list[Alert]:
    return list(Alert.objects.filter(state=AlertState.OPEN).select_related("config")[:20])


@staff_required
@require_POST
def reenable_config(request: HttpRequest, pk: int) -> HttpResponse:
    config = get_object_or_404(PostbackConfig, pk=pk)
    enable_config(config)
    messages.success(
        request,
        f"“{config.name}” is enabled again, its failure count reset. Deliveries cancelled "
        "while it was disabled stay cancelled: re-fire them from the logs.",
    )
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/?") else reverse("health:overview"))
