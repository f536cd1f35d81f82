"""Ops pages for postback logs: the filtered list, one attempt, re-fire, CSV (SPEC §7)."""

from datetime import timedelta

from django.contrib import messages
from django.db import connections
from django.db.models import QuerySet
from django.db.models.functions import Left
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import Scope, scope_of
from logs.export import (
    EXPORT_COLUMNS,
    EXPORT_COLUMNS_PARAMETER,
    FIELDS,
    LOG_COLUMNS,
    chosen_columns,
    csv_response,
    export_filename,
)
from logs.filters import (
    BIGINT_MAX,
    COLUMN_OPERATORS,
    COLUMNS,
    OPERATOR_SUFFIXES,
    active_filters,
    filter_logs,
)
from logs.table import HEADERS, disabled_reason, render_rows
from postbacks.models import LogStatus, PostbackLog, PostbackType, Trigger
from postbacks.services import refire_delivery

PAGE_SIZE = 50
PAGE_PARAMETERS = ("before", "after")  # keyset cursors: ids, never offsets
LIVE = "live"  # live=1: the page polls for newer rows; not a filter, never in the CSV link
LIST_PARAMETERS = (*PAGE_PARAMETERS, LIVE)
EXPORT_PARAMETERS = (*PAGE_PARAMETERS, EXPORT_COLUMNS_PARAMETER)
PREVIEW_CHARS = 1000  # of each server response in the list; the detail page has it all
LIST_FIELDS = [field for field, _ in LOG_COLUMNS if field != "server_response"]
# config: its id only (a column of the log row), for the "config disabled" mark.
LIST_FIELDS += ["attempt", "trigger", "duration_ms", "config"]
COLUMN_LABELS = dict(LOG_COLUMNS) | {"trigger": "Trigger"}


def _scope(request) -> Scope:
    return scope_of(request.user)


def _logs(request) -> QuerySet[PostbackLog]:
    """The log rows this page may show: all for staff, a portal user's own otherwise."""
    return _scope(request).rows(PostbackLog.objects.all())


def _mount(request: HttpRequest) -> str | None:
    """Where the request came in: the "logs" (/logs/) or "portal-logs" instance."""
    return request.resolver_match.namespace if request.resolver_match else None


def _reverse(request, name: str, *args) -> str:
    return reverse(name, args=args, current_app=_mount(request))


def _cursor(request, name: str, errors: dict) -> int | None:
    value = request.GET.get(name, "")
    if value == "":
        return None
    if not value.isdigit() or int(value) > BIGINT_MAX:
        errors[name] = [f'"{value}" is not a page cursor: it must be a log ID.']
        return None
    return int(value)


def _page(queryset, before: int | None, after: int | None):
    """One page of rows by id (keyset, never OFFSET), and whether older/newer rows exist.

    Each query is `ORDER BY id LIMIT 51` or an EXISTS probe, served by the (column, id)
    indexes; no COUNT(*).
    """
    if after is not None:
        rows = list(queryset.filter(id__gt=after).order_by("id")[: PAGE_SIZE + 1])
        has_newer = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE][::-1]
        has_older = bool(rows) and queryset.filter(id__lt=rows[-1].id).exists()
        return rows, has_older, has_newer
    if before is None:
        rows = newest(queryset, PAGE_SIZE + 1)
    else:
        rows = list(queryset.filter(id__lt=before)[: PAGE_SIZE + 1])
    has_older = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    has_newer = before is not None and queryset.filter(id__gte=before).exists()
    return rows, has_older, has_newer


NEWEST_DAYS = (1, 4, 16)


def newest(queryset, limit: int) -> list:
    """The `limit` rows of highest id, newest days asked first on PostgreSQL.

    The log table is partitioned by day there, and for `ORDER BY id DESC LIMIT n`
    PostgreSQL merges one index scan per day, each of which must find its first match
    before the merge can start: for a filter that matches 1 row in 300, some 300 rows
    read in every day kept. So the last day is asked alone, then 4 days, then 16. Rows
    of older days with a higher id than the page's last (a `created` set before the
    insert) are fetched too, by one index seek per day, so the page is exactly the
    `limit` highest ids whatever the days hold.
    """
    if connections[queryset.db].vendor != "postgresql":
        return list(queryset[:limit])
    now = timezone.now()
    for days in NEWEST_DAYS:
        since = now - timedelta(days=days)
        recent = list(queryset.filter(created__gte=since)[:limit])
        if len(recent) == limit:
            older = list(queryset.filter(created__lt=since, id__gt=recent[-1].id)[:limit])
            return sorted(recent + older, key=lambda row: row.id, reverse=True)[:limit]
    return list(queryset[:limit])


def _page_link(request, **cursor) -> str:
    params = request.GET.copy()
    for name in LIST_PARAMETERS:
        params.pop(name, None)
    for name, value in cursor.items():
        params[name] = value
    return "?" + params.urlencode()


def _list_columns(queryset):
    """Only what the table shows, and the server response cut to a preview."""
    return queryset.only("id", *LIST_FIELDS).annotate(
        response_preview=Left("server_response", PREVIEW_CHARS + 1)
    )


def log_list(request):
    queryset, errors = filter_logs(request.GET, _logs(request), ignore=LIST_PARAMETERS)
    before = _cursor(request, "before", errors)
    after = _cursor(request, "after", errors)
    rows, has_older, has_newer = [], False, False
    if not errors:
        rows, has_older, has_newer = _page(_list_columns(queryset), before, after)
    export_params = request.GET.copy()
    for name in LIST_PARAMETERS:
        export_params.pop(name, None)
    context = {
        "rows": rows,
        "table_rows": render_rows(rows, PREVIEW_CHARS, _mount(request)),
        "errors": errors,
        "headers": HEADERS,
        "filters": [
            {"column": c, "operator": o, "value": v, "name": c + OPERATOR_SUFFIXES[o]}
            for c, o, v in active_filters(request.GET)
        ],
        "columns": [
            (column, COLUMN_LABELS[column], " ".join(COLUMN_OPERATORS[column]))
            for column in COLUMNS
        ],
        "operators": [("is", "Is"), ("not", "Is not"), ("contains", "Contains")],
        "created_after": request.GET.get("created_after", ""),
        "created_before": request.GET.get("created_before", ""),
        "status_choices": LogStatus.choices,
        "type_choices": PostbackType.choices,
        "trigger_choices": Trigger.choices,
        "live": request.GET.get(LIVE) == "1",
        "older_link": _page_link(request, before=rows[-1].id) if has_older else "",
        "newer_link": _page_link(request, after=rows[0].id) if has_newer else "",
        "is_first_page": before is None and after is None,
        "export_query": export_params.urlencode(),
        "export_filters": [
            (name, value) for name, values in export_params.lists() for value in values
        ],
        "export_columns": [(name, label, name in FIELDS) for name, label in EXPORT_COLUMNS.items()],
        "can_refire_matching": _scope(request).staff,
    }
    return render(request, "logs/list.html", context, status=400 if errors else 200)


def log_rows(request: HttpRequest) -> JsonResponse:
    """Live mode of /logs/: the rows newer than `after` that match the filters, rendered.

    `{"html": "<tr>…", "count": n, "newest": id, "more": bool}`, newest first, at most a
    page; `more` says older new rows were left out (the page then shows just these).
    """
    errors: dict[str, list[str]] = {}
    after = _cursor(request, "after", errors)
    if after is None and not errors:
        errors["after"] = ["Required: the newest log ID the page shows."]
    queryset, filter_errors = filter_logs(request.GET, _logs(request), ignore=LIST_PARAMETERS)
    errors.update(filter_errors)
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    rows = list(_list_columns(queryset).filter(id__gt=after)[: PAGE_SIZE + 1])
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    return JsonResponse(
        {
            "html": str(render_rows(rows, PREVIEW_CHARS, _mount(request))),
            "count": len(rows),
            "newest": rows[0].id if rows else after,
            "more": more,
        }
    )


def _admin_link(name: str, pk) -> str:
    if pk is None:
        return ""
    try:
        return reverse(f"admin:{name}_change", args=[pk])
    except NoReverseMatch:
        return ""


def log_detail(request, pk: int):
    log = get_object_or_404(_logs(request).select_related("config"), pk=pk)
    attempts = []
    if log.delivery_id is not None:
        attempts = list(
            _logs(request)
            .filter(delivery_id=log.delivery_id)
            .only("id", "created", "status", "attempt", "trigger", "response_code", "error")
            .order_by("id")
        )
    scope = _scope(request)
    context = {
        "log": log,
        "attempts": attempts,
        **_linked(scope, log),
        "config_off": disabled_reason(log.config),
        "can_refire": scope.kind in ("staff", "advertiser"),
    }
    return render(request, "logs/detail.html", context)


def _linked(scope: Scope, log: PostbackLog) -> dict[str, str]:
    """Where the attempt's conversion, click, config and delivery are shown to this user:
    the admin for staff, the portal's own pages for portal users (nothing else)."""
    if scope.staff:
        return {
            "conversion_link": _admin_link("offers_conversion", log.conversion_id),
            "click_link": _admin_link("offers_click", log.click_id),
            "config_link": _admin_link("postbacks_postbackconfig", log.config_id),
            "delivery_link": _admin_link("postbacks_delivery", log.delivery_id),
        }
    links = {}
    if scope.advertiser is not None and log.conversion_id is not None:
        links["conversion_link"] = reverse("portal:conversion", args=[log.conversion_id])
    if scope.publisher is not None and log.config_id is not None:
        links["config_link"] = reverse("portal:config", args=[log.config_id])
    return links


@require_POST
def log_refire(request, pk: int):
    log = get_object_or_404(_logs(request).select_related("delivery__config"), pk=pk)
    if log.delivery is None:
        messages.error(
            request,
            "This attempt has no delivery behind it (a test, or its delivery was deleted), "
            "so it cannot be re-fired. Use “Send test” on the postback config instead.",
        )
    elif refire_delivery(log.delivery):
        messages.success(
            request,
            "Re-fire queued. The new attempt appears below and in the logs within seconds.",
        )
    else:
        messages.error(
            request,
            f"Not re-fired: the postback config “{log.delivery.config.name}” is disabled. "
            "Enable it first.",
        )
    return redirect(_reverse(request, "logs:detail", pk))


def log_export(request):
    queryset, errors = filter_logs(request.GET, _logs(request), ignore=EXPORT_PARAMETERS)
    columns, column_error = chosen_columns(request.GET.getlist(EXPORT_COLUMNS_PARAMETER))
    if column_error:
        errors = {**errors, EXPORT_COLUMNS_PARAMETER: [column_error]}
    if errors:
        lines = ["Bad parameters:"]
        lines += [f"{name}: {' '.join(texts)}" for name, texts in errors.items()]
        return HttpResponse("\n".join(lines) + "\n", status=400, content_type="text/plain")
    filters = request.GET.copy()
    for name in EXPORT_PARAMETERS:
        filters.pop(name, None)
    filename = export_filename(filters, timezone.now())
    return csv_response(queryset, filename=filename, columns=columns)
