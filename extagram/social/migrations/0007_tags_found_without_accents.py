"""Tags found by search without accents: each tag's name folded by text.search_key, kept
in Tag.key (Tag.save keeps it since), computed here for the tags already stored."""

from django.db import migrations, models

BATCH = 1000


def fold_tag_names(apps, schema_editor):
    from extagram.social.models import TAG_MAX
    from extagram.social.text import search_key

    Tag = apps.get_model("social", "Tag")
    last = 0
    while True:
        tags = list(Tag.objects.filter(id__gt=last).order_by("id")[:BATCH])
        if not tags:
            return
        last = tags[-1].id
        for tag in tags:
            tag.key = search_key(tag.name)[:TAG_MAX]
        Tag.objects.bulk_update(tags, ["key"])


class Migration(migrations.Migration):
    dependencies = [("social", "0006_follow_not_oneself_message")]

    operations = [
        migrations.AddField(
            model_name="tag",
            name="key",
            field=models.CharField(db_index=True, db_default="", max_length=64),
        ),
        migrations.RunPython(fold_tag_names, migrations.RunPython.noop),
    ]
