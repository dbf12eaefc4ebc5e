"""A member's picture and name: the pair every list of people shows (notifications,
followers and following, search, comments, suggestions).

`{% avatar_and_name person 32 %}` gives what `{% include "_avatar.html" with size=32 %}
{% include "_user_name.html" %}` give, rendered once per process for each look of a member
(handle, display name, pictures, size) and reused: a notifications page has 50 such pairs,
and the two includes were a third of its time (docs/performance.md, "Signed-in pages: rows
instead of models").
"""

from django import template
from django.template.loader import get_template
from django.utils.safestring import mark_safe

from extagram.core.memo import ProcessMemo

register = template.Library()

# {key: html}: the key holds everything the two templates read, and the templates
# themselves (a reloaded template under runserver starts afresh).
SHOWN = ProcessMemo(kept=4096)


@register.simple_tag
def avatar_and_name(person, size):
    """`_avatar.html` at `size` CSS pixels, a space, then `_user_name.html`, for `person`
    (a user, its profile selected with it): the same HTML as the two includes."""
    avatar, name = get_template("_avatar.html"), get_template("_user_name.html")
    profile = getattr(person, "profile", None)
    look = None
    if profile is not None:
        look = (
            profile.display_name,
            profile.avatar_small,
            profile.avatar_small_side,
            profile.avatar_large,
            profile.avatar_side,
        )
    # no script prefix: the pictures' URLs are MEDIA_URL's and STATIC_URL's, both absolute
    key = (avatar.template, name.template, person.username, look, size)
    context = {"person": person, "size": size}
    html = SHOWN.get(key, lambda: f"{avatar.render(context)} {name.render(context)}")
    return mark_safe(html)  # noqa: S308 -- both parts are rendered, escaped templates
