"""CompiledQuery runs a statement compiled once with new arguments, as the ORM would."""

from django.db import connection
from django.db.models import Exists, OuterRef
from django.test.utils import CaptureQueriesContext

from extagram.core.statements import CompiledQuery
from extagram.posts.models import Like, Post
from extagram.testing.base import BaseTestCase


def posts_with_marks(ids, user_id):
    liked = Exists(Like.objects.filter(post_id=OuterRef("pk"), user_id=user_id))
    return (
        Post.objects.filter(pk__in=ids)
        .annotate(liked=liked)
        .order_by("-id")
        .values_list("pk", "created_at", "author__username", "liked")
    )


class CompiledQueryTests(BaseTestCase):
    def setUp(self):
        self.posts = [self.make_post() for _ in range(3)]
        Like.toggle(self.posts[1], self.stranger)
        self.query = CompiledQuery(posts_with_marks)

    def test_it_gives_the_rows_the_queryset_gives_for_any_arguments(self):
        ids = [p.pk for p in self.posts]
        shapes = ((ids, self.stranger.pk), (ids[:1], self.staff.pk), (ids[1:], self.owner.pk))
        for args in shapes:
            with self.subTest(args=args):
                self.assertEqual(self.query.rows(*args), list(posts_with_marks(*args)))

    def test_it_converts_values_as_the_orm_does(self):
        (row,) = self.query.rows([self.posts[1].pk], self.stranger.pk)
        self.assertIs(row[3], True)
        self.assertEqual(row[1], self.posts[1].created_at)
        self.assertIsNotNone(row[1].tzinfo)

    def test_each_call_reads_the_data_as_it_is_now(self):
        post = self.posts[0]
        self.assertEqual(self.query.rows([post.pk], self.staff.pk)[0][3], False)
        Like.toggle(post, self.staff)
        self.assertEqual(self.query.rows([post.pk], self.staff.pk)[0][3], True)

    def test_it_compiles_once_per_shape(self):
        ids = [p.pk for p in self.posts]
        self.query.rows(ids, self.stranger.pk)
        self.query.rows(ids[:2], self.stranger.pk)
        with CaptureQueriesContext(connection) as captured:
            self.assertEqual(len(self.query.rows(ids[1:], self.owner.pk)), 2)
        self.assertEqual(len(captured), 1)
        self.assertEqual(len(self.query.local.compiled), 2)

    def test_an_empty_list_gives_no_rows_and_no_statement(self):
        with CaptureQueriesContext(connection) as captured:
            self.assertEqual(self.query.rows([], self.stranger.pk), [])
        self.assertEqual(len(captured), 0)

    def test_it_refuses_a_statement_that_does_not_carry_each_argument(self):
        ignores_its_user = CompiledQuery(lambda ids, user_id: Post.objects.filter(pk__in=ids))
        with self.assertRaisesRegex(ValueError, "does not carry each argument"):
            ignores_its_user.rows([self.posts[0].pk], self.owner.pk)
