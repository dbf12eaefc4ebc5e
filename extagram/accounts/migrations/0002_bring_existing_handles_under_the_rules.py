"""Bring every existing account under the handle rules, losing nobody's posts.

For each account: the canonical form of its username (NFKC_Casefold) becomes
its handle when that is valid and free. Otherwise (an invalid name such as
"..", a reserved one such as "admin", a non-ASCII one, or a second account
whose name differs from an earlier one only by case or form) it gets the
nearest free valid handle, its old name is kept as its display name, and a
HandleChange row records the old name, the new one and the broken rules.
Who keeps a contested handle: the account already spelled exactly that way,
then the oldest. Posts, comments and likes point at the user's id, which does
not change. A line per renamed account is printed during `migrate`.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from django.utils import translation

    with translation.override("en"):  # the recorded reasons are for staff, in one language
        _forwards(apps, schema_editor)


def _forwards(apps, schema_editor):
    from extagram.accounts.usernames import (
        DISPLAY_NAME_MAX,
        canonical,
        handle_problems,
        suggest_handle,
    )

    User = apps.get_model("auth", "User")
    Profile = apps.get_model("accounts", "Profile")
    HandleChange = apps.get_model("accounts", "HandleChange")
    db = schema_editor.connection.alias

    users = list(User.objects.using(db).order_by("date_joined", "id"))
    # Exact spellings first, so "alice" keeps "alice" and a later "Alice" moves.
    users.sort(key=lambda u: u.username != canonical(u.username))
    already = set(Profile.objects.using(db).values_list("user_id", flat=True))
    taken = set(Profile.objects.using(db).values_list("handle", flat=True))
    plan = []
    for user in users:
        if user.pk in already:
            continue
        key = canonical(user.username)
        reasons = [str(message) for _, message in handle_problems(key)]
        if not reasons and key in taken:
            reasons = ["Another account already has this name in another letter case or form."]
        new = suggest_handle(user.username, taken) if reasons else key
        taken.add(new)
        plan.append((user, new, reasons))

    # Two steps, so that swapping "Bob"->"bob" and "bob"->"bob_2" never meets the
    # unique index on auth_user.username halfway.
    renamed = [(user, new, reasons) for user, new, reasons in plan if user.username != new]
    for user, _, _ in renamed:
        User.objects.using(db).filter(pk=user.pk).update(username=f"~migrating~{user.pk}")
    for user, new, reasons in plan:
        if user.username != new:
            User.objects.using(db).filter(pk=user.pk).update(username=new)
        display_name = " ".join(user.username.split())[:DISPLAY_NAME_MAX] if reasons else ""
        Profile.objects.using(db).create(user=user, handle=new, display_name=display_name)
        if reasons:
            HandleChange.objects.using(db).create(
                user=user, old_username=user.username, new_handle=new, reasons="\n".join(reasons)
            )
            print(f"\n  accounts: {user.username!r} is now {new!r}: {'; '.join(reasons)}", end="")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_profile")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
