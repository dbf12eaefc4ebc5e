"""A time as the pages write it: "3 minutes ago", "1 month, 1 week ago"."""

from datetime import timedelta

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone, translation
from django.utils.html import conditional_escape

from .memo import ProcessMemo

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
# {(language, time, step, whole steps since): text}. naturaltime() costs 12-18 µs for a
# time within the day and ~32 µs for an older one (timesince's calendar arithmetic; both
# mostly translation lookups), up to a dozen a page (post cards, comments, notifications),
# and its text stays the same for a whole step of the time's age: under a minute it counts
# whole seconds, under an hour whole minutes, under a day whole hours, and over a day it
# writes at most two adjacent units, hours the smallest when days are shown, counted from
# the time itself (django.contrib.humanize's NaturalTimeFormatter; docs/performance.md,
# '"N days ago" worked out once an hour' and '"3 minutes ago" worked out once a minute').
WRITTEN = ProcessMemo(kept=4096)


def time_ago(value):
    """Django's `naturaltime` of `value` (an aware datetime, UTC), escaped for HTML, in the
    active language: what the page shows for it as of now. Worked out once per process for
    each step of its age in which that text stays the same (WRITTEN): a second under a
    minute, a minute under an hour, an hour after that. A time in the future (a clock
    ahead of this one) is written afresh each time."""
    key = _key(value, timezone.now() - value)
    if key is None:
        return conditional_escape(naturaltime(value))
    kept = WRITTEN.get_many([key])
    if kept:
        return kept[key]
    text = conditional_escape(naturaltime(value))
    # kept only if naturaltime read the clock within the same step of the age
    if _key(value, timezone.now() - value) == key:
        WRITTEN.update({key: text})
    return text


def _key(value, age):
    """The memo key of `value`'s text at `age` (a timedelta), or None for a negative age."""
    if age < timedelta(0):
        return None
    step = SECOND if age < MINUTE else MINUTE if age < HOUR else HOUR
    return (translation.get_language(), value, step, age // step)
