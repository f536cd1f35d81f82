"""The <tbody> rows of /logs/, rendered in Python.

This is the hot path of the page: 50 rows × 12 cells through Django's template engine
took ~40 ms of the page's time on the benchmark machine (SPEC §9 wants the whole page in
< 50 ms); escaped f-strings take ~1 ms. Everything that comes from the database goes
through `escape()`.

Rows of a disabled postback config carry a "Config disabled" mark: the configs of the
page's rows are read in one query by id (`disabled_configs`), never joined to the list's
`ORDER BY id DESC LIMIT 51` over millions of rows.
"""

from collections.abc import Iterable, Sequence

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from postbacks.models import LogStatus, PostbackConfig, PostbackLog, PostbackType, Trigger

STATUS_LABELS = dict(LogStatus.choices)
TYPE_LABELS = dict(PostbackType.choices)
TRIGGER_LABELS = dict(Trigger.choices)
EMPTY = '<span class="muted">—</span>'
# The page's columns: the §5 CSV columns with attempt, trigger and duration beside the code.
HEADERS = (
    "Time",
    "Status",
    "Postback Name",
    "Postback Type",
    "Offer ID",
    "Publisher ID",
    "Event ID",
    "Transaction ID",
    "Response Code",
    "Attempt",
    "Trigger",
    "Duration",
    "URL",
    "Error",
    "Server Response",
)
NO_REASON = "Disabled by hand (no reason recorded)."


def clip(value: str, more_url: str = "") -> str:
    """A one-line cell with an ellipsis; a click shows the whole value in place."""
    if not value:
        return EMPTY
    more = (
        f'<a class="more" href="{more_url}">Whole response on the attempt page →</a>'
        if more_url
        else ""
    )
    return (
        '<details class="clip"><summary title="Click to show the full value">'
        f"{escape(value)}</summary>{more}</details>"
    )


def code_class(code: int) -> str:
    if 200 <= code < 300:
        return "code-ok"
    if code == 0:
        return "code-none"
    return "code-warn" if code < 500 else "code-bad"


def number(value: int | None) -> str:
    return EMPTY if value is None else str(value)


def duration(ms: int) -> str:
    """`84 ms` below a second, `1.2 s` from there."""
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def disabled_configs(rows: Iterable[PostbackLog]) -> dict[int, str]:
    """Reason per disabled config among the rows' configs: one query by primary key."""
    ids = {log.config_id for log in rows if log.config_id is not None}
    if not ids:
        return {}
    configs = PostbackConfig.objects.filter(id__in=ids, enabled=False)
    return {pk: reason or NO_REASON for pk, reason in configs.values_list("id", "disabled_reason")}


def disabled_reason(config: PostbackConfig | None) -> str | None:
    """Why the config is disabled; None when it is enabled or gone."""
    if config is None or config.enabled:
        return None
    return config.disabled_reason or NO_REASON


def disabled_mark(reason: str | None) -> str:
    if reason is None:
        return ""
    return (
        f' <span class="badge-config-off" title="Config disabled: {escape(reason)}">'
        "Config disabled</span>"
    )


def render_row(
    log: PostbackLog, preview_chars: int, list_url: str, disabled_reason: str | None = None
) -> str:
    detail = f"{list_url}{log.id}/"
    preview: str = log.response_preview  # type: ignore[attr-defined]  # annotated by the view
    response = (
        clip(preview[:preview_chars] + "…", detail)
        if len(preview) > preview_chars
        else clip(preview)
    )
    created = log.created.strftime("%Y-%m-%d %H:%M:%S")
    status_label = STATUS_LABELS.get(log.status, log.status)
    type_label = TYPE_LABELS.get(log.postback_type, log.postback_type)
    trigger_label = TRIGGER_LABELS.get(log.trigger, log.trigger)
    off = " config-off" if disabled_reason is not None else ""
    return (
        f'<tr data-id="{log.id}" class="log-row{off}">'
        f'<td class="nowrap"><a class="row-link" href="{detail}" title="Open attempt #{log.id}">'
        f"{created}</a></td>"
        f'<td><span class="badge badge-{escape(log.status)}">{escape(status_label)}</span></td>'
        f'<td class="name">{escape(log.postback_name)}{disabled_mark(disabled_reason)}</td>'
        f'<td><span class="type type-{escape(log.postback_type)}">{escape(type_label)}</span></td>'
        f'<td class="num">{number(log.offer_id)}</td>'
        f'<td class="num">{number(log.publisher_id)}</td>'
        f'<td class="num">{number(log.event_id)}</td>'
        f'<td class="mono cell-clip">{clip(log.transaction_id)}</td>'
        f'<td class="num"><span class="code {code_class(log.response_code)}">'
        f"{log.response_code}</span></td>"
        f'<td class="num">{log.attempt}</td>'
        f'<td><span class="trigger trigger-{escape(log.trigger)}">'
        f"{escape(trigger_label)}</span></td>"
        f'<td class="num">{duration(log.duration_ms)}</td>'
        f'<td class="mono cell-clip cell-url">{clip(log.url)}</td>'
        f'<td class="cell-clip cell-error">{clip(log.error)}</td>'
        f'<td class="mono cell-clip">{response}</td>'
        "</tr>"
    )


def render_rows(
    rows: Sequence[PostbackLog], preview_chars: int, current_app: str | None = None
) -> SafeString:
    # Detail pages are <list_url><id>/, under /logs/ or /portal/logs/ (current_app).
    list_url = reverse("logs:list", current_app=current_app)
    disabled = disabled_configs(rows)
    html = "\n".join(
        render_row(log, preview_chars, list_url, disabled.get(log.config_id or 0)) for log in rows
    )
    return mark_safe(html)  # noqa: S308
