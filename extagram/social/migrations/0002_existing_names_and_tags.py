"""Fill the search names and the tags of what existed before the social app."""

from django.db import migrations

BATCH = 1000


def fill(apps, schema_editor):
    from extagram.social.text import canonical_tag, tags_in

    Profile = apps.get_model("accounts", "Profile")
    SearchName = apps.get_model("social", "SearchName")
    Post = apps.get_model("posts", "Post")
    Tag = apps.get_model("social", "Tag")
    PostTag = apps.get_model("social", "PostTag")
    names = Profile.objects.exclude(display_name="").values_list("user_id", "display_name")
    SearchName.objects.bulk_create(
        [SearchName(user_id=user_id, key=canonical_tag(name)[:100]) for user_id, name in names],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    last = 0
    while True:
        rows = list(
            Post.objects.filter(id__gt=last, caption__contains="#")
            .order_by("id")
            .values_list("id", "caption")[:BATCH]
        )
        if not rows:
            break
        last = rows[-1][0]
        for post_id, caption in rows:
            for name in tags_in(caption):
                tag, _ = Tag.objects.get_or_create(name=name)
                PostTag.objects.get_or_create(post_id=post_id, tag=tag)


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0001_initial"),
        ("accounts", "0001_profile"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
