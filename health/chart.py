"""The overview's chart: attempts per interval, succeeded vs failed, as inline SVG.

Rendered on the server (no chart library, no CDN, no script), scaled by its viewBox.
"""

from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 1000, 200
LEFT, BOTTOM, TOP = 44, 22, 8  # room for the axis labels


def attempts_chart(series: list[dict], edits: list[tuple[datetime, str]]) -> SafeString:
    """Stacked bars (succeeded below, failed on top) and a dashed line per config edit."""
    if not series:
        return mark_safe("")  # noqa: S308 (nothing to draw)
    peak = max((point["succeeded"] + point["failed"] for point in series), default=0) or 1
    plot_width, plot_height = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    slot = plot_width / len(series)
    parts = [_axis(peak, plot_height)]
    for index, point in enumerate(series):
        parts.append(_bar(index, point, slot, peak, plot_height))
    parts.append(_time_labels(series, slot))
    parts.extend(_edit_marker(moment, label, series, slot, plot_height) for moment, label in edits)
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="Attempts per interval, succeeded and failed" '
        f'preserveAspectRatio="none">{"".join(parts)}</svg>'
    )
    return mark_safe(svg)  # noqa: S308 (every text in it is escaped above)


def compact(number: int) -> str:
    """A count in at most 4 characters for the axis: 950, 9.5k, 132k, 1.2M."""
    for limit, unit in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if number >= limit:
            value = number / limit
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
    return str(number)


def _axis(peak: int, plot_height: float) -> str:
    base = TOP + plot_height
    return (
        f'<line class="axis" x1="{LEFT}" y1="{base}" x2="{WIDTH}" y2="{base}"/>'
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end">{compact(peak)}</text>'
        f'<text class="tick" x="{LEFT - 6}" y="{base}" text-anchor="end">0</text>'
    )


def _bar(index: int, point: dict, slot: float, peak: int, plot_height: float) -> str:
    x = LEFT + index * slot + slot * 0.12
    width = slot * 0.76
    ok_height = plot_height * point["succeeded"] / peak
    bad_height = plot_height * point["failed"] / peak
    base = TOP + plot_height
    title = escape(
        f"{point['start']:%Y-%m-%d %H:%M} UTC: {point['succeeded']:,} succeeded, "
        f"{point['failed']:,} failed"
    )
    return (
        f"<g><title>{title}</title>"
        f'<rect class="ok" x="{x:.1f}" y="{base - ok_height:.1f}" width="{width:.1f}" '
        f'height="{ok_height:.1f}"/>'
        f'<rect class="bad" x="{x:.1f}" y="{base - ok_height - bad_height:.1f}" '
        f'width="{width:.1f}" height="{bad_height:.1f}"/></g>'
    )


def _time_labels(series: list[dict], slot: float) -> str:
    picks = sorted({0, len(series) // 2, len(series) - 1})
    labels = []
    for index in picks:
        x = LEFT + index * slot + slot / 2
        anchor = "start" if index == 0 else "end" if index == len(series) - 1 else "middle"
        text = f"{series[index]['start']:%m-%d %H:%M}"
        labels.append(
            f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}">{text}</text>'
        )
    return "".join(labels)


def _edit_marker(
    moment: datetime, label: str, series: list[dict], slot: float, plot_height: float
) -> str:
    start, end = series[0]["start"], series[-1]["start"]
    span = (end - start).total_seconds() or 1
    position = (moment - start).total_seconds() / span * (len(series) - 1)
    if position < 0 or position > len(series):
        return ""
    x = LEFT + position * slot + slot / 2
    title = escape(f"{moment:%Y-%m-%d %H:%M} UTC: {label}")
    return (
        f'<g class="edit"><title>{title}</title>'
        f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_height}"/>'
        f'<circle cx="{x:.1f}" cy="{TOP + 3}" r="3"/></g>'
    )
