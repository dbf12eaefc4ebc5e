"""Search names folded without accents (text.search_key), recomputed for every profile."""

from django.db import migrations

BATCH = 1000


def refold(apps, schema_editor):
    from extagram.social.text import search_key

    Profile = apps.get_model("accounts", "Profile")
    SearchName = apps.get_model("social", "SearchName")
    names = Profile.objects.exclude(display_name="").order_by("user_id")
    last = 0
    while True:
        rows = list(names.filter(user_id__gt=last).values_list("user_id", "display_name")[:BATCH])
        if not rows:
            return
        last = rows[-1][0]
        for user_id, name in rows:
            key = search_key(name)[:100]
            if key:
                SearchName.objects.update_or_create(user_id=user_id, defaults={"key": key})


class Migration(migrations.Migration):
    dependencies = [("social", "0003_tag_names_compared_exactly")]

    operations = [migrations.RunPython(refold, migrations.RunPython.noop)]
