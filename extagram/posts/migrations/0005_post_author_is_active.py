from django.db import migrations, models


def copy_author_activity(apps, schema_editor):
    Post = apps.get_model("posts", "Post")
    Post.objects.filter(author__is_active=False).update(author_is_active=False)


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0004_webp_variants"),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="author_is_active",
            field=models.BooleanField(default=True, editable=False),
        ),
        migrations.RunPython(copy_author_activity, migrations.RunPython.noop),
    ]
