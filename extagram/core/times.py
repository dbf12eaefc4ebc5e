"""A time as the pages write it: "3 minutes ago", "1 month, 1 week ago"."""

from datetime import timedelta

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone, translation
from django.utils.html import conditional_escape

from .memo import ProcessMemo

HOUR = timedelta(hours=1)
# {(language, time, whole hours since): text} for times over a day ago. Their text costs
# naturaltime() ~32 µs (timesince's calendar arithmetic and its translations; ~6.5 µs for a
# time within the day), up to a dozen a page (post cards, comments, notifications), and it
# stays the same for an hour: timesince writes at most two adjacent units, hours the
# smallest when days are shown, counted from the time itself (docs/performance.md,
# '"N days ago" worked out once an hour').
OVER_A_DAY = ProcessMemo(kept=4096)


def time_ago(value):
    """Django's `naturaltime` of `value` (an aware datetime, UTC), escaped for HTML, in the
    active language: what the page shows for it as of now. A time over a day ago is worked
    out once per process for each hour that passes (OVER_A_DAY)."""
    before = timezone.now()
    if before - value < timedelta(days=1):
        return conditional_escape(naturaltime(value))
    key = (translation.get_language(), value, (before - value) // HOUR)
    kept = OVER_A_DAY.get_many([key])
    if kept:
        return kept[key]
    text = conditional_escape(naturaltime(value))
    # kept only if naturaltime read the clock within the same hour since `value`
    if (timezone.now() - value) // HOUR == key[2]:
        OVER_A_DAY.update({key: text})
    return text
