"""The data migration that brings existing accounts under the handle rules."""

from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import TransactionTestCase

BEFORE = [("accounts", "0001_profile")]
AFTER = [("accounts", "0002_bring_existing_handles_under_the_rules")]


class HandleMigrationTests(TransactionTestCase):
    def migrate(self, accounts_target):
        """Migrate accounts to `accounts_target` (others at their latest); the apps then."""
        executor = MigrationExecutor(connection)
        others = [node for node in executor.loader.graph.leaf_nodes() if node[0] != "accounts"]
        targets = [*accounts_target, *others]
        executor.migrate(targets)
        executor.loader.build_graph()
        return executor.loader.project_state(targets).apps

    def tearDown(self):
        self.migrate([node for node in leaf_nodes() if node[0] == "accounts"])

    def test_colliding_and_invalid_names_are_resolved_without_losing_posts(self):
        apps = self.migrate(BEFORE)
        User = apps.get_model("auth", "User")
        Post = apps.get_model("posts", "Post")

        def user(name, joined):
            return User.objects.create(username=name, date_joined=f"2025-01-0{joined}T00:00Z")

        keeps = {"alice": user("alice", 2), "ana.maria": user("ana.maria", 1)}
        moved = {
            "..": user("..", 1),
            ".": user(".", 2),
            "admin": user("admin", 3),
            "Émilie_x": user("Émilie_x", 4),
            "\u0430lice": user("\u0430lice", 5),  # Cyrillic а
            "x" * 150: user("x" * 150, 6),
        }
        mixed_case = None
        if connection.vendor == "mysql":
            # MariaDB's case-insensitive collation never let two such rows exist.
            with self.assertRaises(IntegrityError), transaction.atomic():
                user("Alice", 7)
        else:
            mixed_case = user("Alice", 1)  # older than "alice", but not spelled canonically
            moved["Alice"] = mixed_case
        kept_upper = user("Bruno", 8)
        for owner in [*keeps.values(), *moved.values(), kept_upper]:
            Post.objects.create(
                author=owner,
                image_large="l.jpg",
                image_small="s.jpg",
                width=1,
                height=1,
                small_width=1,
            )

        apps = self.migrate(AFTER)
        User = apps.get_model("auth", "User")
        Profile = apps.get_model("accounts", "Profile")
        HandleChange = apps.get_model("accounts", "HandleChange")
        Post = apps.get_model("posts", "Post")

        for name, old in keeps.items():
            self.assertEqual(User.objects.get(pk=old.pk).username, name)
            self.assertFalse(HandleChange.objects.filter(user_id=old.pk).exists())
        self.assertEqual(User.objects.get(pk=kept_upper.pk).username, "bruno")
        self.assertFalse(HandleChange.objects.filter(user_id=kept_upper.pk).exists())

        from extagram.accounts.usernames import handle_problems

        handles = []
        for old_name, old in moved.items():
            new = User.objects.get(pk=old.pk).username
            handles.append(new)
            self.assertEqual(handle_problems(new), [], f"{old_name!r} became {new!r}")
            change = HandleChange.objects.get(user_id=old.pk)
            self.assertEqual((change.old_username, change.new_handle), (old_name, new))
            self.assertTrue(change.reasons)
            self.assertEqual(Profile.objects.get(user_id=old.pk).display_name, old_name[:50])
        self.assertEqual(User.objects.get(pk=moved["Émilie_x"].pk).username, "emilie_x")
        # The Cyrillic look-alike becomes visibly different: alice_2 (or _3) beside alice.
        self.assertRegex(User.objects.get(pk=moved["\u0430lice"].pk).username, r"^alice_\d$")
        self.assertEqual(User.objects.get(pk=moved["admin"].pk).username[:6], "member")
        self.assertIn("reserved", HandleChange.objects.get(user_id=moved["admin"].pk).reasons)
        if mixed_case:
            self.assertRegex(User.objects.get(pk=mixed_case.pk).username, r"^alice_\d$")
            reasons = HandleChange.objects.get(user_id=mixed_case.pk).reasons
            self.assertIn("another letter case", reasons)

        # Everyone has exactly one profile whose handle is the username; no post moved.
        self.assertEqual(len(set(handles)), len(handles))
        for profile in Profile.objects.select_related("user"):
            self.assertEqual(profile.handle, profile.user.username)
        self.assertEqual(Profile.objects.count(), User.objects.count())
        self.assertEqual(Post.objects.count(), User.objects.count())
        for owner in User.objects.all():
            self.assertEqual(Post.objects.filter(author=owner).count(), 1)


def leaf_nodes():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()
