"""URLs reversed once per process and reused, in Python and by the {% url %} tag.

Django's reverse() works a URL out anew at every call: 26 µs each here (in-process,
`post_detail` and `profile`), and the notifications page reverses two URLs per row, ~90 a
page, 2.3 ms of its 10 (docs/performance.md, "Signed-in pages: the page's chrome rendered
once"). The same name and arguments give the same URL for as long as the URLconf, the
script prefix and the language are the same, so reverse() here keeps each answer.

This module is also a template library, loaded as a builtin of the Django engine
(settings.TEMPLATES): its {% url %} replaces Django's, with the same syntax and errors.
"""

from django import template, urls
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import defaulttags
from django.utils import translation
from django.utils.html import conditional_escape

from extagram.core.memo import ProcessMemo

# {(urlconf, script prefix, language, current app, view name, args, kwargs): url}
REVERSED = ProcessMemo(kept=8192)

register = template.Library()


@receiver(setting_changed)
def _forget_on_new_urlconf(setting, **kwargs):
    # as Django clears its own URL caches (django.test.signals.root_urlconf_changed)
    if setting == "ROOT_URLCONF":
        REVERSED.clear()


def reverse(viewname, args=None, kwargs=None, current_app=None):
    """django.urls.reverse(viewname, args=args, kwargs=kwargs, current_app=current_app),
    kept per process when the view name and every argument are str or int (a model
    instance or a lazy string could give another URL later for the same key: those are
    reversed each time).

    Raises NoReverseMatch as Django's does (an error is not kept).
    """
    args, kwargs = tuple(args or ()), dict(kwargs or {})
    if not all(_keepable(value) for value in (viewname, *args, *kwargs.values())):
        return urls.reverse(viewname, args=args, kwargs=kwargs, current_app=current_app)
    key = (
        urls.get_urlconf(),
        urls.get_script_prefix(),
        translation.get_language(),
        current_app,
        viewname,
        args,
        tuple(sorted(kwargs.items())),
    )
    return REVERSED.get(
        key, lambda: urls.reverse(viewname, args=args, kwargs=kwargs, current_app=current_app)
    )


def _keepable(value):
    # exact types: True == 1 as a key, but reverse() writes "True"
    return type(value) is int or isinstance(value, str)


class URLNode(defaulttags.URLNode):
    """Django's URLNode, reversing through reverse() above."""

    def render(self, context):
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {name: value.resolve(context) for name, value in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        url = ""
        try:
            url = reverse(view_name, args, kwargs, _current_app(context))
        except urls.NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


def _current_app(context):
    # as Django's URLNode finds it
    try:
        return context.request.current_app
    except AttributeError:
        try:
            return context.request.resolver_match.namespace
        except AttributeError:
            return None


@register.tag
def url(parser, token):
    """Django's {% url %} (same syntax: name, arguments, `as var`), reversed through
    reverse() above."""
    node = defaulttags.url(parser, token)
    return URLNode(node.view_name, node.args, node.kwargs, node.asvar)
