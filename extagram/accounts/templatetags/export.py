"""Template filters for the readable index.html of "Download my data"."""

from datetime import datetime

from django import template

register = template.Library()


@register.filter
def from_iso(value):
    """An ISO 8601 string (as written into data.json) as a datetime, for the `date` filter.

    Returns "" for an empty value and the value itself when it is not ISO 8601.
    """
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value
