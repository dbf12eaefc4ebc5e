from django.conf import settings
from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def leave_out_deactivated_members(apps, schema_editor):
    """Posts by deactivated members are flagged, and the counts of the posts they liked or
    commented on are counted again without them (posts.signals.activity_changed does both
    from now on)."""
    Post = apps.get_model("posts", "Post")
    Post.objects.filter(author__is_active=False).update(author_is_active=False)
    _count_again(apps, {"is_active": True})


def count_everyone_again(apps, schema_editor):
    """Backwards: the code before counted every member's likes and comments."""
    _count_again(apps, {})


def _count_again(apps, counted_members):
    """Count again the likes and comments of the posts that deactivated members liked or
    commented on, counting only the members matching `counted_members` (User lookups)."""
    Post = apps.get_model("posts", "Post")
    Like = apps.get_model("posts", "Like")
    Comment = apps.get_model("posts", "Comment")
    for rows, field, member in ((Like, "like_count", "user"), (Comment, "comment_count", "author")):
        wanted = {f"{member}__{lookup}": value for lookup, value in counted_members.items()}
        counted = rows.objects.filter(post=OuterRef("pk"), **wanted)
        per_post = counted.order_by().values("post").annotate(n=Count("*")).values("n")
        touched = rows.objects.filter(**{f"{member}__is_active": False}).values("post_id")
        Post.objects.filter(pk__in=touched).update(**{field: Coalesce(Subquery(per_post), 0)})


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0004_webp_variants"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="author_is_active",
            field=models.BooleanField(default=True, db_default=True, editable=False),
        ),
        migrations.RunPython(leave_out_deactivated_members, count_everyone_again),
    ]
