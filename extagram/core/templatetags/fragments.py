"""`{% fragment %}`: a part of a page rendered once per process and reused.

    {% load fragments %}
    {% fragment user.username unread_notifications %} ... {% endfragment %}

The body is rendered the first time for each combination of the values after the tag's
name (its "vary on" values, as for Django's `{% cache %}`; compared by equality, so they
must be hashable: strings, numbers, booleans), the active language and the script prefix,
and the same HTML is given after that. Everything the body shows that can
differ between two requests must be among the vary-on values, or read by
`{% csrf_token %}`: the token is the visitor's own, put in place on every request (which
Django's `{% cache %}` cannot do: a cached form would carry the first visitor's token).

A signed-in Explore page took 3.68 ms in-process with its header and 3.08 with the header
as fixed text (its unread count's Redis read included); rendered once, 3.30
(docs/performance.md, "Signed-in pages: the page's chrome rendered once").
"""

from django import template
from django.template import Context
from django.template.defaulttags import CsrfTokenNode
from django.template.loader_tags import BlockNode
from django.urls import get_script_prefix, get_urlconf
from django.utils import translation
from django.utils.safestring import mark_safe

from extagram.core.memo import ProcessMemo

register = template.Library()

# {(node, urlconf, language, script prefix, vary-on values): html}. The node is the
# template's own, so a template reloaded by runserver renders afresh.
RENDERED = ProcessMemo(kept=4096)
CSRF_MARKER = "extagram-fragment-csrf-token-marker"
_CSRF_MARKED = CsrfTokenNode().render(Context({"csrf_token": CSRF_MARKER}))


class FragmentNode(template.Node):
    # The body is not walked by `{% extends %}` looking for blocks (it holds none: see
    # fragment()); Django walks the root template's whole tree for them on every render.
    child_nodelists = ()

    def __init__(self, nodelist, vary_on):
        self.nodelist = nodelist
        self.vary_on = vary_on

    def render(self, context):
        vary = tuple(expression.resolve(context) for expression in self.vary_on)
        key = (self, get_urlconf(), translation.get_language(), get_script_prefix(), vary)
        html = RENDERED.get(key, lambda: self._render_marked(context))
        if _CSRF_MARKED in html:
            html = html.replace(_CSRF_MARKED, CsrfTokenNode().render(context))
        return mark_safe(html)  # noqa: S308 -- a rendered, escaped template

    def _render_marked(self, context):
        with context.push(csrf_token=CSRF_MARKER):
            return self.nodelist.render(context)


@register.tag
def fragment(parser, token):
    """`{% fragment value... %}body{% endfragment %}`: see the module's docstring."""
    vary_on = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    # a block's content is the child template's, but the fragment is kept per base template
    if nodelist.get_nodes_by_type(BlockNode):
        raise template.TemplateSyntaxError("{% fragment %} cannot hold a {% block %}")
    return FragmentNode(nodelist, vary_on)
