"""The <tbody> rows of the overview's groups table, rendered in Python.

Up to 50 rows (or every group with ?rows=all: hundreds) × 14 cells through Django's
template engine took ~25 ms of the page at 30 days on the benchmark; escaped f-strings
take ~1 ms (the same choice as logs/table.py). Names come from the database and go
through `escape()`; links are built by urlencode() and escaped as attributes.
"""

import math
from collections.abc import Iterable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Below this first-attempt success rate a figure is shown in red (as on the tiles).
POOR_FIRST_ATTEMPT = 0.8
COLUMNS = 14


def percent(value: float | None) -> str:
    """0.734 → 73 %, None → —. Near the ends one decimal, rounded towards the middle, so
    that 6,000 failures in 9 million never read as 100 % (99.9 %), nor one success as 0 %."""
    if value is None:
        return "—"
    whole = round(value * 100)
    if whole == 100 and value < 1:
        return f"{math.floor(value * 1000) / 10:.1f} %"
    if whole == 0 and value > 0:
        return f"{math.ceil(value * 1000) / 10:.1f} %"
    return f"{whole} %"


def _link(href: str, text: object, css: str = "") -> str:
    css_attribute = f' class="{css}"' if css else ""
    return f'<a href="{escape(href)}"{css_attribute}>{text}</a>'


def _failure_cell(figure) -> str:
    if figure.link:
        return f'<td class="num">{_link(figure.link, f"{figure.value:,}", "bad")}</td>'
    return f'<td class="num"><span class="muted">{figure.value:,}</span></td>'


def group_row(row: dict) -> str:
    group = row["group"]
    first = row["first_attempt"].value
    poor = "bad" if first is not None and first < POOR_FIRST_ATTEMPT else ""
    name = escape(group["name"]) if group["name"] is not None else "(deleted)"
    attempts = row["attempts"]
    cells = [
        f'<th scope="row">{name} <span class="muted">#{group["id"]}</span></th>',
        f'<td class="num">{_link(attempts.link, f"{attempts.value:,}")}</td>',
        f'<td class="num">{group["deliveries_finished"]:,}</td>',
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
