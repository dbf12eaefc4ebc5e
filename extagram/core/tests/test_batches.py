"""Rows read a batch at a time (core.batches): every row once, in key order, one
statement per batch, whatever shape the queryset yields."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from extagram.core.batches import each_row, in_batches
from extagram.posts.models import Comment
from extagram.testing.base import BaseTestCase


class InBatchesTests(BaseTestCase):
    def setUp(self):
        post = self.make_post()
        self.comments = Comment.objects.bulk_create(
            Comment(post=post, author=self.stranger, body=f"comment {n}") for n in range(7)
        )
        self.pks = sorted(c.pk for c in Comment.objects.all())

    def test_it_reads_every_row_once_in_key_order_one_statement_a_batch(self):
        # newest first asked: the primary key's order is what keyset paging can follow
        newest_first = Comment.objects.order_by("-id")
        with CaptureQueriesContext(connection) as statements:
            batches = list(in_batches(newest_first, 3))
        self.assertEqual(
            [[c.pk for c in batch] for batch in batches],
            [self.pks[0:3], self.pks[3:6], self.pks[6:7]],
        )
        self.assertEqual(len(statements), 3)

    def test_a_last_full_batch_takes_one_more_statement_that_finds_nothing(self):
        with CaptureQueriesContext(connection) as statements:
            batches = list(in_batches(Comment.objects.all(), 7))
        self.assertEqual([len(batch) for batch in batches], [7])
        self.assertEqual(len(statements), 2)

    def test_dicts_tuples_and_flat_values_are_paged_by_their_pk(self):
        comments = Comment.objects.all()
        shapes = {
            "values": (comments.values("pk", "body"), lambda row: row["pk"]),
            "values_list": (comments.values_list("pk", "body"), lambda row: row[0]),
            "flat": (comments.values_list("pk", flat=True), lambda row: row),
        }
        for name, (rows, pk_of) in shapes.items():
            with self.subTest(name):
                self.assertEqual([pk_of(row) for row in each_row(rows, 2)], self.pks)

    def test_deleting_the_rows_read_so_far_does_not_disturb_the_reading(self):
        read = []
        for batch in in_batches(Comment.objects.all(), 2):
            read += [c.pk for c in batch]
            # what a deletion does while it reads (accounts.erasure)
            Comment.objects.filter(pk__in=[c.pk for c in batch]).delete()
        self.assertEqual(read, self.pks)

    def test_an_empty_queryset_yields_nothing(self):
        self.assertEqual(list(in_batches(Comment.objects.none(), 5)), [])

    def test_it_refuses_a_batch_size_below_one(self):
        with self.assertRaises(ValueError):
            next(in_batches(Comment.objects.all(), 0))

    def test_a_values_dict_without_its_pk_is_an_error_not_a_wrong_page(self):
        with self.assertRaises(KeyError):
            list(in_batches(Comment.objects.values("body"), 2))
