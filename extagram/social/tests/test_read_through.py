"""read_through keeps a value while its stamps stand, and reads afresh when one is replaced
or the cache cannot be reached."""

from unittest import mock

from django.core.cache import cache
from django.test import TestCase

from extagram.social.models import read_through, replace_stamp

STAMPS = ("test:stamp:a", "test:stamp:b")


class ReadThroughTests(TestCase):
    def setUp(self):
        cache.clear()
        self.reads = 0

    def read(self):
        self.reads += 1
        return f"value {self.reads}"

    def value(self):
        return read_through("test:value", STAMPS, self.read, 60)

    def test_a_value_is_read_once_while_its_stamps_stand(self):
        self.assertEqual(self.value(), "value 1")
        self.assertEqual(self.value(), "value 1")
        self.assertEqual(self.reads, 1)

    def test_replacing_either_stamp_means_a_fresh_read(self):
        self.value()
        with self.captureOnCommitCallbacks(execute=True):
            replace_stamp(STAMPS[1])
        self.assertEqual(self.value(), "value 2")
        with self.captureOnCommitCallbacks(execute=True):
            replace_stamp(STAMPS[0])
        self.assertEqual(self.value(), "value 3")

    def test_an_evicted_stamp_means_a_fresh_read(self):
        self.value()
        cache.delete(STAMPS[0])
        self.assertEqual(self.value(), "value 2")
        self.assertEqual(self.value(), "value 2")

    def test_an_unreachable_cache_costs_one_round_trip_and_a_read(self):
        # django-redis with IGNORE_EXCEPTIONS: reads give nothing, writes answer None
        with (
            mock.patch.object(cache, "get_many", return_value={}) as get_many,
            mock.patch.object(cache, "add", return_value=None) as add,
            mock.patch.object(cache, "set") as set_,
        ):
            self.assertEqual(self.value(), "value 1")
        self.assertEqual((get_many.call_count, add.call_count, set_.call_count), (1, 1, 0))
