"""Posts filed under the tags their authors wrote in their own comments on them, as under
their captions' (text.post_tags_of; from now on the comments' receivers in signals keep it).
Only posts with such a comment carrying a "#" are read, BATCH at a time. Backwards, those
posts go back to their captions' tags alone, as the code before kept them."""

from django.db import migrations
from django.db.models import F

BATCH = 1000


def _relink(apps, with_comments):
    from extagram.social.models import link_post_tags
    from extagram.social.text import post_tags_of

    Post = apps.get_model("posts", "Post")
    Comment = apps.get_model("posts", "Comment")
    Tag = apps.get_model("social", "Tag")
    PostTag = apps.get_model("social", "PostTag")
    own = Comment.objects.filter(author_id=F("post__author_id"), body__contains="#")
    post_ids = sorted(set(own.values_list("post_id", flat=True)))
    for start in range(0, len(post_ids), BATCH):
        batch = post_ids[start : start + BATCH]
        bodies, linked = {}, {}
        for post_id, body in own.filter(post_id__in=batch).values_list("post_id", "body"):
            bodies.setdefault(post_id, []).append(body)
        rows = PostTag.objects.filter(post_id__in=batch)
        for row_id, post_id, name in rows.values_list("id", "post_id", "tag__name"):
            linked.setdefault(post_id, {})[name] = row_id
        for post_id, caption in Post.objects.filter(pk__in=batch).values_list("id", "caption"):
            wanted = post_tags_of(caption, bodies[post_id] if with_comments else ())
            link_post_tags(post_id, wanted, linked.get(post_id, {}), Tag, PostTag)


def with_own_comments(apps, schema_editor):
    _relink(apps, with_comments=True)


def captions_only(apps, schema_editor):
    _relink(apps, with_comments=False)


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0004_search_names_without_accents"),
        ("posts", "0006_later_columns_have_database_defaults"),
    ]

    operations = [migrations.RunPython(with_own_comments, captions_only)]
