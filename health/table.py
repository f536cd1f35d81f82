"""The <tbody> rows of the overview's groups table, rendered in Python.

Up to 50 rows (or every group with ?rows=all: hundreds) × 14 cells through Django's
template engine took ~25 ms of the page at 30 days on the benchmark; escaped f-strings
take ~1 ms (the same choice as logs/table.py). Names come from the database and go
through `escape()`; links are built by urlencode() and escaped as attributes.
"""

from collections.abc import Iterable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Below this first-attempt success rate a figure is shown in red (as on the tiles).
POOR_FIRST_ATTEMPT = 0.8
COLUMNS = 14


def percent(value: float | None) -> str:
    """0.734 → 73 %, None → —; rounded as the template's widthratio rounds."""
    return "—" if value is None else f"{round(value * 100)} %"


def _link(href: str, text: object, css: str = "") -> str:
    css_attribute = f' class="{css}"' if css else ""
    return f'<a href="{escape(href)}"{css_attribute}>{text}</a>'


def _failure_cell(figure) -> str:
    if figure.link:
        return f'<td class="num">{_link(figure.link, figure.value, "bad")}</td>'
    return f'<td class="num"><span class="muted">{figure.value}</span></td>'


def group_row(row: dict) -> str:
    group = row["group"]
    first = row["first_attempt"].value
    poor = "bad" if first is not None and first < POOR_FIRST_ATTEMPT else ""
    name = escape(group["name"]) if group["name"] is not None else "(deleted)"
    cells = [
        f'<th scope="row">{name} <span class="muted">#{group["id"]}</span></th>',
        f'<td class="num">{_link(row["attempts"].link, row["attempts"].value)}</td>',
        f'<td class="num">{group["deliveries_finished"]}</td>',
        f'<td class="num">{_link(row["first_attempt"].link, percent(first), poor)}</td>',
        f'<td class="num">{_link(row["success"].link, percent(row["success"].value))}</td>',
        *(_failure_cell(figure) for figure in row["failures"].values()),
        f'<td class="num nowrap">{escape(row["latency"])}</td>',
        f'<td class="num nowrap">{escape(row["to_success"])}</td>',
    ]
    return "<tr>" + "".join(cells) + "</tr>"


def group_rows(rows: Iterable[dict]) -> SafeString:
    html = "\n".join(group_row(row) for row in rows)
    if not html:
        html = f'<tr><td colspan="{COLUMNS}" class="empty">No attempts in this window.</td></tr>'
    return mark_safe(html)  # noqa: S308 — every value above is escaped or a number
