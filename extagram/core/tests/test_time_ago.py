"""time_ago: the pages' "3 minutes ago", Django's naturaltime, worked out once per process
for each second, minute or hour of a time's age in which its text stays the same."""

from datetime import UTC, datetime, timedelta
from unittest import mock

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.test import SimpleTestCase
from django.utils import timezone, translation
from django.utils.html import conditional_escape

from extagram.core import times
from extagram.core.times import WRITTEN, time_ago

# ages from a second to years, each half an hour from an hour's turn so that no test
# straddles one; across month ends, a leap day and a year's turn as seen from now
AGES = [
    timedelta(seconds=5),
    timedelta(minutes=7, seconds=3),
    timedelta(hours=5, minutes=30),
    timedelta(hours=23, minutes=30),
    timedelta(days=1, minutes=30),
    timedelta(days=1, hours=5, minutes=30),
    timedelta(days=6, hours=23, minutes=30),
    timedelta(days=13, hours=2, minutes=30),
    timedelta(days=30, hours=12, minutes=30),
    timedelta(days=59, minutes=30),
    timedelta(days=366, hours=1, minutes=30),
    timedelta(days=800, hours=20, minutes=30),
]


class TimeAgoTests(SimpleTestCase):
    def setUp(self):
        WRITTEN.clear()

    def test_it_writes_what_naturaltime_writes_for_every_age_and_language(self):
        for language in ("en", "es", "ca"):
            with translation.override(language):
                for age in AGES:
                    value = timezone.now() - age
                    expected = conditional_escape(naturaltime(value))
                    # twice: worked out, then kept
                    self.assertEqual(time_ago(value), expected, (language, age))
                    self.assertEqual(time_ago(value), expected, (language, age))

    def test_it_keeps_the_text_of_a_time_over_a_day_ago_for_the_hour(self):
        value = timezone.now() - timedelta(days=40, minutes=30)
        with mock.patch.object(times, "naturaltime", wraps=naturaltime) as made:
            first = time_ago(value)
            self.assertEqual(time_ago(value), first)
            self.assertEqual(made.call_count, 1)
            with translation.override("es"):
                self.assertNotEqual(time_ago(value), first)  # each language its own
            self.assertEqual(made.call_count, 2)

    def test_it_keeps_the_text_of_a_time_within_the_day_for_its_minute_or_hour(self):
        now = datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC)
        for age, later, step in [
            (timedelta(seconds=5, microseconds=100), timedelta(microseconds=800_000), "second"),
            (timedelta(minutes=7), timedelta(seconds=59), "minute"),
            (timedelta(hours=5), timedelta(minutes=59, seconds=59), "hour"),
        ]:
            value = now - age
            with (
                self.subTest(step),
                mock.patch.object(times.timezone, "now", side_effect=[now, now, now + later]),
                mock.patch.object(times, "naturaltime", return_value="text") as made,
            ):
                time_ago(value)  # reads the clock before and after writing the text
                self.assertEqual(time_ago(value), "text")  # later, within the same step
                self.assertEqual(made.call_count, 1)

    def test_a_new_step_of_the_age_is_written_afresh(self):
        now = datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC)
        for age, later in [
            (timedelta(seconds=5, microseconds=100), timedelta(seconds=1)),
            (timedelta(minutes=7), timedelta(minutes=1)),
            (timedelta(minutes=59, seconds=59), timedelta(seconds=1)),  # minutes to hours
            (timedelta(hours=5), timedelta(hours=1)),
            (timedelta(hours=23, minutes=59), timedelta(minutes=1)),  # hours to a day
            # the same count of another step: "5 seconds ago", then "5 minutes ago"
            (timedelta(seconds=5), timedelta(minutes=4, seconds=55)),
            (timedelta(minutes=5), timedelta(hours=4, minutes=55)),
        ]:
            value = now - age
            with (
                self.subTest(age),
                mock.patch.object(
                    times.timezone, "now", side_effect=[now, now, now + later, now + later]
                ),
                mock.patch.object(times, "naturaltime", return_value="text") as made,
            ):
                time_ago(value)
                time_ago(value)
                self.assertEqual(made.call_count, 2)

    def test_a_time_in_the_future_is_written_afresh_each_time(self):
        value = timezone.now() + timedelta(minutes=10)
        with mock.patch.object(times, "naturaltime", wraps=naturaltime) as made:
            time_ago(value)
            time_ago(value)
        self.assertEqual(made.call_count, 2)
        self.assertEqual(len(WRITTEN), 0)

    def test_a_text_read_across_an_hours_turn_is_not_kept(self):
        value = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        clock = [
            value + timedelta(days=2, minutes=59, seconds=59),
            value + timedelta(days=2, hours=1),
        ]
        with (
            mock.patch.object(times.timezone, "now", side_effect=clock),
            mock.patch.object(times, "naturaltime", return_value="2 days, 1 hour ago"),
        ):
            self.assertEqual(time_ago(value), "2 days, 1 hour ago")
        self.assertEqual(len(WRITTEN), 0)
