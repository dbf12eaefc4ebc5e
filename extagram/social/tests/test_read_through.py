"""read_through keeps a value while its stamps stand, and reads afresh when one is replaced
or the cache cannot be reached."""

from unittest import mock

from django.core.cache import cache
from django.test import TestCase

from extagram.social.models import read_ahead, read_through, replace_stamp

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


class ReadAheadTests(TestCase):
    """read_ahead: a later read_through's keys read in an earlier one's round trip."""

    def setUp(self):
        cache.clear()
        self.reads = []

    def value(self, name):
        def read():
            self.reads.append(name)
            return f"{name} {self.reads.count(name)}"

        return read_through(f"test:{name}", (f"test:stamp:{name}",), read, 60)

    def test_the_value_read_ahead_comes_with_the_first_round_trip(self):
        self.value("ids"), self.value("count")  # both cached
        with (
            mock.patch.object(cache, "get_many", wraps=cache.get_many) as get_many,
            read_ahead(["test:stamp:count", "test:count"]),
        ):
            self.assertEqual(self.value("ids"), "ids 1")
            self.assertEqual(self.value("count"), "count 1")
        self.assertEqual(get_many.call_count, 1)
        self.assertEqual(self.reads, ["ids", "count"])  # nothing read afresh

    def test_a_value_read_ahead_is_used_once(self):
        self.value("ids"), self.value("count")
        with read_ahead(["test:stamp:count", "test:count"]):
            self.value("ids")
            self.value("count")
            with self.captureOnCommitCallbacks(execute=True):
                replace_stamp("test:stamp:count")
            self.assertEqual(self.value("count"), "count 2")  # from the cache, not ahead

    def test_a_stamp_replaced_before_the_round_trip_means_a_fresh_read(self):
        self.value("ids"), self.value("count")
        with read_ahead(["test:stamp:count", "test:count"]):
            with self.captureOnCommitCallbacks(execute=True):
                replace_stamp("test:stamp:count")
            self.value("ids")
            self.assertEqual(self.value("count"), "count 2")

    def test_a_first_read_of_the_keys_ahead_is_their_round_trip(self):
        self.value("count")
        with (
            mock.patch.object(cache, "get_many", wraps=cache.get_many) as get_many,
            read_ahead(["test:stamp:count", "test:count"]),
        ):
            self.assertEqual(self.value("count"), "count 1")
            self.assertEqual(self.value("count"), "count 1")
        # each its own: the keys once in the first (not twice), the second from the cache
        self.assertEqual(
            [call.args[0] for call in get_many.call_args_list],
            [["test:stamp:count", "test:count"]] * 2,
        )

    def test_nothing_is_read_ahead_outside_the_block(self):
        self.value("ids"), self.value("count")
        with read_ahead(["test:stamp:count", "test:count"]):
            pass
        with mock.patch.object(cache, "get_many", wraps=cache.get_many) as get_many:
            self.value("ids")
            self.value("count")
        self.assertEqual(
            [call.args[0] for call in get_many.call_args_list],
            [["test:stamp:ids", "test:ids"], ["test:stamp:count", "test:count"]],
        )
