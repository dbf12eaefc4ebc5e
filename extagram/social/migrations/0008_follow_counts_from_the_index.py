from django.conf import settings
from django.db import migrations, models


def copy_the_members_activity(apps, schema_editor):
    """Follows of and by deactivated members are flagged (Follow.save and
    signals.account_activity_changed keep the flags from now on)."""
    Follow = apps.get_model("social", "Follow")
    Follow.objects.filter(follower__is_active=False).update(follower_is_active=False)
    Follow.objects.filter(followee__is_active=False).update(followee_is_active=False)


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0007_tags_found_without_accents"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="follow",
            name="follower_is_active",
            field=models.BooleanField(db_default=True, default=True, editable=False),
        ),
        migrations.AddField(
            model_name="follow",
            name="followee_is_active",
            field=models.BooleanField(db_default=True, default=True, editable=False),
        ),
        migrations.RunPython(copy_the_members_activity, migrations.RunPython.noop),
        # each count reads one index: the flag goes at its end, after the lists' order. The
        # new indexes first: MySQL needs one starting with the followee for its foreign key,
        # and Django adds one of its own when the last such index is removed
        migrations.AddIndex(
            model_name="follow",
            index=models.Index(
                fields=["followee", "-id", "follower_is_active"],
                name="follow_followee_newest_active",
            ),
        ),
        migrations.AddIndex(
            model_name="follow",
            index=models.Index(
                fields=["follower", "-id", "followee_is_active"],
                name="follow_follower_newest_active",
            ),
        ),
        migrations.RemoveIndex(model_name="follow", name="follow_followee_newest"),
        migrations.RemoveIndex(model_name="follow", name="follow_follower_newest"),
    ]
