"""The version before still writes: during a rolling deploy the replicas not yet replaced
run the previous version against the migrated database, and after a rollback the previous
version runs against it for good. Such a version inserts rows without the columns added
after it, so every column a later migration added must fill itself (a database default,
db_default, or NULL): MariaDB in strict mode refuses the insert otherwise (error 1364,
"Field ... doesn't have a default value"), SQLite too ("NOT NULL constraint failed")."""

from datetime import timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import AddField
from django.db.models import NOT_PROVIDED, AutoField
from django.db.models.functions import Now
from django.utils import timezone

from extagram.accounts.models import Profile
from extagram.posts.models import Post
from extagram.testing.base import BaseTestCase

OUR_APPS = [config.label for config in apps.get_app_configs() if config.name.startswith("extagram")]


def added_fields():
    """(app label, model name, field name) of every AddField in our apps' migrations."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return [
        (app_label, operation.model_name, operation.name)
        for (app_label, _), migration in loader.disk_migrations.items()
        if app_label in OUR_APPS
        for operation in migration.operations
        if isinstance(operation, AddField)
    ]


def columns_after_each_migration(model):
    """The sets of column names `model`'s table had after each of its app's migrations
    (only those where the table existed), oldest first."""
    loader = MigrationLoader(connection)
    label = model._meta.app_label
    names = sorted(name for app_label, name in loader.disk_migrations if app_label == label)
    known = []
    for name in names:
        state = loader.project_state((label, name))
        try:
            then = state.apps.get_model(label, model._meta.model_name)
        except LookupError:
            continue
        known.append({field.column for field in then._meta.concrete_fields})
    return known


def insert_as_before(instance, columns):
    """Insert a copy of `instance`'s row giving only `columns` (an auto-incremented
    primary key left to the database), as a version that knew only those would; return
    the new row's primary key."""
    model = type(instance)
    fields = [
        field
        for field in model._meta.concrete_fields
        if field.column in columns and not isinstance(field, AutoField)
    ]
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    values = [
        field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields
    ]
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)  # noqa: S608 -- the model's own names
    if isinstance(model._meta.pk, AutoField):
        return model.objects.order_by("-pk").values_list("pk", flat=True)[0]
    return instance.pk


class RollingDeployTests(BaseTestCase):
    def test_every_column_a_later_migration_added_fills_itself(self):
        self.assertTrue(added_fields())
        for app_label, model_name, field_name in added_fields():
            field = apps.get_model(app_label, model_name)._meta.get_field(field_name)
            with self.subTest(f"{app_label}.{model_name}.{field_name}"):
                self.assertTrue(field.null or field.db_default is not NOT_PROVIDED)

    def test_posts_inserted_as_each_earlier_version_did_are_stored_with_the_defaults(self):
        post = self.make_post(caption="kept")
        earlier = columns_after_each_migration(Post)[:-1]
        self.assertGreaterEqual(len(earlier), 4)
        for columns in earlier:
            with self.subTest(sorted(columns)):
                stored = Post.objects.get(pk=insert_as_before(post, columns))
                self.assert_filled_by_the_database(stored, columns)
                self.assertTrue(stored.author_is_active)
                self.assertEqual(self.client.get(f"/p/{stored.pk}/").status_code, 200)

    def test_profiles_inserted_as_each_earlier_version_did_are_stored_with_the_defaults(self):
        earlier = columns_after_each_migration(Profile)[:-1]
        self.assertGreaterEqual(len(earlier), 3)
        for n, columns in enumerate(earlier):
            with self.subTest(sorted(columns)):
                member = get_user_model().objects.create_user(f"earlier{n}")
                profile = Profile.objects.get(user=member)
                Profile.objects.filter(pk=profile.pk).delete()  # the instance keeps its pk
                stored = Profile.objects.get(pk=insert_as_before(profile, columns))
                self.assert_filled_by_the_database(stored, columns)
                self.assertEqual(self.client.get(f"/u/earlier{n}/").status_code, 200)

    def assert_filled_by_the_database(self, stored, columns):
        for field in type(stored)._meta.concrete_fields:
            if field.column in columns:
                continue
            value = getattr(stored, field.attname)
            if field.null and field.db_default is NOT_PROVIDED:
                self.assertIsNone(value, field.name)
            elif isinstance(field.db_default, Now):
                self.assertLess(abs(value - timezone.now()), timedelta(minutes=1), field.name)
            else:
                self.assertEqual(value, field.db_default, field.name)
