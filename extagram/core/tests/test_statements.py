"""CompiledQuery runs a statement compiled once with new arguments, as the ORM would."""

from django.contrib.auth.models import User
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


def authors_posts(author_id):
    return Post.objects.filter(author_id=author_id).values_list("pk", "author__username")


class CompiledInWrittenOrderTests(BaseTestCase):
    def test_it_joins_from_the_querysets_table_on_mariadb_and_gives_the_same_rows(self):
        post = self.make_post(self.owner)
        query = CompiledQuery(authors_posts, in_written_order=True)
        with CaptureQueriesContext(connection) as captured:
            rows = query.rows(self.owner.pk)
        self.assertEqual(rows, [(post.pk, "alice")])
        self.assertEqual(rows, list(authors_posts(self.owner.pk)))
        sql = captured[0]["sql"]
        self.assertEqual(sql.startswith("SELECT STRAIGHT_JOIN "), connection.vendor == "mysql")

    def test_it_refuses_a_distinct_statement_on_every_database(self):
        distinct = CompiledQuery(lambda author_id: authors_posts(author_id).distinct(), True)
        with self.assertRaisesRegex(ValueError, "without DISTINCT"):
            distinct.rows(self.owner.pk)


def newest_posts(author_id):
    return Post.objects.filter(author_id=author_id).order_by("-id").values_list("pk")


class CompiledLimitTests(BaseTestCase):
    def setUp(self):
        self.ids = [self.make_post().pk for _ in range(4)][::-1]  # newest first
        self.query = CompiledQuery(newest_posts)

    def test_a_limit_gives_the_first_rows_as_a_slice_does(self):
        for limit in (1, 3, 10):
            with self.subTest(limit=limit):
                rows = self.query.rows(self.owner.pk, limit=limit)
                self.assertEqual(rows, list(newest_posts(self.owner.pk)[:limit]))

    def test_each_limit_is_a_shape_of_its_own(self):
        self.assertEqual(len(self.query.rows(self.owner.pk, limit=2)), 2)
        self.assertEqual(len(self.query.rows(self.owner.pk, limit=3)), 3)
        self.assertEqual(len(self.query.rows(self.owner.pk)), 4)
        self.assertEqual(len(self.query.rows(self.owner.pk, limit=2)), 2)
        self.assertEqual(len(self.query.local.compiled), 3)

    def test_a_limit_of_nothing_gives_no_rows_and_no_statement(self):
        with CaptureQueriesContext(connection) as captured:
            self.assertEqual(self.query.rows(self.owner.pk, limit=0), [])
        self.assertEqual(len(captured), 0)

    def test_it_limits_instances_too(self):
        query = CompiledQuery(lambda author_id: Post.objects.filter(author_id=author_id))
        posts = query.instances(self.owner.pk, limit=2)
        # Post.Meta.ordering: newest first
        self.assertEqual([post.pk for post in posts], self.ids[:2])

    def test_it_refuses_a_limit_that_is_not_a_count(self):
        for limit in (-1, 2.0, "2", True):
            with self.subTest(limit=limit), self.assertRaises(ValueError):
                self.query.rows(self.owner.pk, limit=limit)


def posts_with_authors(ids):
    return Post.objects.select_related("author__profile").filter(pk__in=ids)


def member_named(handle):
    return User.objects.select_related("profile").filter(username=handle, is_active=True)


class CompiledInstancesTests(BaseTestCase):
    def setUp(self):
        self.posts = [self.make_post(author=author) for author in (self.owner, self.stranger)]
        self.query = CompiledQuery(posts_with_authors)

    def test_it_gives_the_instances_the_queryset_gives(self):
        ids = [post.pk for post in self.posts]
        for args in ((ids,), (ids[:1],), (ids[1:],)):
            with self.subTest(args=args):
                found = self.query.instances(*args)
                expected = list(posts_with_authors(*args))
                self.assertEqual(found, expected)
                for got, want in zip(found, expected, strict=True):
                    self.assertEqual(got.__dict__.keys(), want.__dict__.keys())
                    self.assertEqual(got.caption, want.caption)
                    self.assertEqual(got.created_at, want.created_at)
                    self.assertFalse(got._state.adding)

    def test_the_selected_related_objects_come_with_no_further_statement(self):
        (post,) = self.query.instances([self.posts[1].pk])
        with CaptureQueriesContext(connection) as captured:
            self.assertEqual(post.author, self.stranger)
            self.assertEqual(post.author.profile.display_name, self.stranger.profile.display_name)
        self.assertEqual(len(captured), 0)

    def test_a_member_without_a_profile_has_none_as_the_orm_gives(self):
        self.stranger.profile.delete()
        query = CompiledQuery(member_named)
        (member,) = query.instances(self.stranger.username)
        self.assertEqual(member, self.stranger)
        with self.assertRaises(User.profile.RelatedObjectDoesNotExist):
            member.profile  # noqa: B018 -- the attribute's access is what is tested
        with self.assertRaises(User.profile.RelatedObjectDoesNotExist):
            member_named(self.stranger.username).get().profile  # noqa: B018

    def test_a_text_argument_is_replayed_as_it_is(self):
        query = CompiledQuery(member_named)
        self.assertEqual(query.instances(self.owner.username), [self.owner])
        self.assertEqual(query.instances(self.stranger.username), [self.stranger])
        self.assertEqual(query.instances("nobody-has-this-handle"), [])
        self.assertEqual(query.instances("%"), [])  # a parameter, not a pattern
        self.stranger.is_active = False
        self.stranger.save()
        self.assertEqual(query.instances(self.stranger.username), [])

    def test_a_number_beyond_64_bits_matches_no_row(self):
        huge = 2**64
        with CaptureQueriesContext(connection) as captured:
            self.assertEqual(self.query.instances([huge]), [])
        self.assertEqual(len(captured), 0)
        self.assertEqual(self.query.instances([huge, self.posts[0].pk]), [self.posts[0]])

    def test_it_refuses_what_is_not_a_plain_model_queryset(self):
        for build in (
            lambda ids: Post.objects.filter(pk__in=ids).values_list("pk"),
            lambda ids: Post.objects.filter(pk__in=ids).prefetch_related("comments"),
            lambda ids: self.owner.posts.filter(pk__in=ids),
        ):
            with self.subTest(build=build), self.assertRaises(TypeError):
                CompiledQuery(build).instances([self.posts[0].pk])

    def test_it_refuses_an_argument_of_another_type(self):
        with self.assertRaises(TypeError):
            self.query.instances((self.posts[0].pk,))
