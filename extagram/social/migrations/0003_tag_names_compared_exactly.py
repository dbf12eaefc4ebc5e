"""Tag names compared code point by code point on MariaDB/MySQL.

Tag names are stored canonical (text.canonical_tag: NFKC, case-folded), so the one right
comparison is exact. The server's utf8mb4_unicode_ci collation also ignores accents and
some other differences: #cafe and #café were one tag there (get_or_create found the other),
while SQLite kept them apart. The column gets utf8mb4_bin; then every post's tag rows are
put in step with its caption again, which splits what the old collation had merged.
Nothing to do on SQLite (its default comparison is already exact).

Any later AlterField on Tag.name must keep this collation (Django does not know it).
"""

from django.db import migrations

BATCH = 1000


def resync_post_tags(Post, Tag, PostTag):
    """Make every post's PostTag rows exactly the tags in its caption
    (models.link_post_tags); how many rows changed. Reads posts BATCH at a time, with their
    tag rows in one statement per batch, and writes only where the two differ."""
    from extagram.social.models import link_post_tags
    from extagram.social.text import tags_in

    changed, last = 0, 0
    while True:
        posts = list(
            Post.objects.filter(id__gt=last).order_by("id").values_list("id", "caption")[:BATCH]
        )
        if not posts:
            return changed
        last = posts[-1][0]
        linked = {}
        rows = PostTag.objects.filter(post_id__in=[p for p, _ in posts])
        for row_id, post_id, name in rows.values_list("id", "post_id", "tag__name"):
            linked.setdefault(post_id, {})[name] = row_id
        for post_id, caption in posts:
            changed += link_post_tags(post_id, tags_in(caption), linked.get(post_id, {}), Tag, PostTag)


def compare_exactly(apps, schema_editor):
    if schema_editor.connection.vendor != "mysql":
        return
    Tag = apps.get_model("social", "Tag")
    length = Tag._meta.get_field("name").max_length
    schema_editor.execute(
        f"ALTER TABLE {schema_editor.quote_name(Tag._meta.db_table)} MODIFY "
        f"{schema_editor.quote_name('name')} varchar({length}) CHARACTER SET utf8mb4 "
        "COLLATE utf8mb4_bin NOT NULL"
    )
    resync_post_tags(apps.get_model("posts", "Post"), Tag, apps.get_model("social", "PostTag"))


class Migration(migrations.Migration):
    dependencies = [("social", "0002_existing_names_and_tags")]

    operations = [migrations.RunPython(compare_exactly, migrations.RunPython.noop, atomic=False)]
