"""Template filters of the overview."""

from django import template

from health.table import percent as percent_text

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    """0.734 → 73 %; 0.9994 → 99.9 % (never a rounded-up 100 % while some failed)."""
    return percent_text(value)
