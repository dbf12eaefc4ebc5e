from django import template

from .. import text

register = template.Library()


@register.filter(is_safe=True)
def social_links(value):
    """Escape `value`, then link its #tags and @mentions (see extagram.social.text)."""
    return text.render(value)


@register.filter(is_safe=True)
def bio_links(value):
    """As social_links, and URLs become links with rel="nofollow ugc noopener"."""
    return text.render(value, link_urls=True)
