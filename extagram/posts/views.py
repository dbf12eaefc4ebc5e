from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from extagram.accounts.usernames import canonical
from extagram.core.caching import shared_cache_for_visitors
from extagram.core.forms import submission_digest, submission_token
from extagram.core.redirects import canonical_redirect, redirect_back, viewed_path
from extagram.core.views import ShownBadRequest, form_action

from .cards import page_cards, render_cards
from .comments import comments_html
from .forms import CommentForm, PostEditForm
from .models import Comment, Like, Post
from .tiles import page_tiles


def request_cursor(request):
    """The `before` query parameter: None for the first page, the id (a post's, or a
    comment's on a post page) that the page's items come before otherwise.

    Raises ShownBadRequest (a 400 saying the page link is not valid) for anything else.
    """
    raw = request.GET.get("before")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # "²".isdigit() is True
        raise ShownBadRequest(_("This page link is not valid."))
    return int(raw)


def feed_page(request, page_ids, template, context, ids_stale=None):
    """One page of posts rendered with `template` (only the cards with ?fragment=1),
    `context` plus posts, cards (their HTML, one safe string) and next_cursor; a 400 for
    a bad `before` (request_cursor). `page_ids(cursor, size)` reads the page's ids as
    PostQuerySet.page_ids does. With `grid` in the context the posts are TileRows and the
    cards their grid tiles (posts.tiles.page_tiles); otherwise they are CardRows and post
    cards (posts.cards.page_cards).
    `ids_stale()`, given for cached ids, marks them out of date: it is called, and the
    ids read again, when a post among them is gone (deleted by a path that did not say so),
    so the page shows no hole. Shared by the feeds here and in extagram.social."""
    cursor, size = request_cursor(request), settings.FEED_PAGE_SIZE
    ids = page_ids(cursor, size)
    if context.get("grid"):
        posts, cards = page_tiles(ids[:size])
    else:
        posts, cards = page_cards(request, ids[:size])
        if len(posts) < len(ids[:size]) and ids_stale is not None:
            ids_stale()
            return feed_page(request, page_ids, template, context)  # read again, once
    next_cursor = ids[size - 1] if len(ids) > size else None
    # the cards as one string: the template shows them in one step, not a loop of 12
    context.update(posts=posts, cards=mark_safe("".join(cards)), next_cursor=next_cursor)  # noqa: S308
    if request.GET.get("fragment") == "1":
        return render(request, "posts/_feed_page.html", context)
    return render(request, template, context)


@shared_cache_for_visitors
def feed(request):
    """Signed in: the member's home feed (extagram.social); signed out: everyone's posts."""
    if request.user.is_authenticated:
        from extagram.social.views import home

        return home(request)
    return feed_page(request, Post.objects.shown().page_ids, "posts/feed.html", {})


@shared_cache_for_visitors
def profile(request, username):
    from extagram.social.models import profile_owner, read_unread_count_ahead

    handle = canonical(username)
    with read_unread_count_ahead(request.user):  # with the owner's numbers: one round trip
        owner = profile_owner(handle, request.user)
        if handle != username:  # /u/Alice/ and /u/ＡＬＩＣＥ/ are /u/alice/
            return canonical_redirect(request, "profile", username=handle)
        # the numbers are the owner's (profile_owner); the follow form reads follows_owner
        context = {"owner": owner, "follows_owner": owner.follows_owner, "grid": True}
        posts = Post.objects.filter(author=owner)
        return feed_page(request, posts.page_ids, "posts/profile.html", context)


@shared_cache_for_visitors
def post_detail(request, pk):
    return render(request, "posts/post_detail.html", _detail_context(request, _shown_post(pk)))


def _shown_post(pk):
    """The post `pk` with its author and profile (one statement compiled once), or a 404
    (also when its author's account is deactivated)."""
    found = Post.in_id_order([pk])
    if not found or not found[0].author_is_active:
        raise Http404
    return found[0]


def _detail_context(request, post, comment_form=None):
    """The post page's context; its comments from the `before` query parameter's comment
    id back (request_cursor: a 400 for a bad one), the newest when there is none."""
    Like.mark_liked(request.user, [post])
    cursor = request_cursor(request)
    comments = comments_html(request, post, cursor)
    return {
        "post": post,
        "card": render_cards(request, [post], eager=True)[0],
        "comments": comments.html,
        "older_comments": comments.older,
        "comments_paged": cursor is not None,
        "comment_form": comment_form or CommentForm(),
        # kept on a refusal, so that the corrected comment is still one submission
        "comment_token": _posted_token(request) or submission_token(),
    }


def _posted_token(request):
    """The comment form's submission token as posted ("" for none), cut to a token's
    length at most: it is put back in the page when a comment is refused."""
    return request.POST.get("token", "")[:64]


def _asked_to_like(request):
    """The like form's `like`: True ("1": like), False ("0": unlike), or None when it is
    not sent (a toggle: a page from before the field). Raises ShownBadRequest for any
    other value."""
    asked = request.POST.get("like")
    if asked not in (None, "0", "1"):
        raise ShownBadRequest(_("This like button is not valid. Reload the page and try again."))
    return None if asked is None else asked == "1"


def _wants_json(request):
    return "application/json" in request.headers.get("Accept", "")


@login_required
@form_action("post_detail")
def toggle_like(request, pk):
    post = get_object_or_404(Post.objects.shown(), pk=pk)
    post.liked = Like.toggle(post, request.user, _asked_to_like(request))
    if _wants_json(request):
        post.refresh_from_db(fields=["like_count"])
        context = {"post": post, "page_path": viewed_path(request, post.get_absolute_url())}
        html = render_to_string("posts/_like_form.html", context, request=request)
        return JsonResponse({"liked": post.liked, "like_count": post.like_count, "html": html})
    return redirect_back(request, post)


@login_required
@form_action("post_detail")
def add_comment(request, pk):
    post = _shown_post(pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, post, comment_form=form)
        return render(request, "posts/post_detail.html", context, status=400)
    body = form.cleaned_data["body"]
    submission = submission_digest(_posted_token(request), (body,))
    Comment.add(post, request.user, body, submission=submission)
    return redirect(f"{post.get_absolute_url()}#comments")


@login_required
@form_action(lambda request, pk: get_object_or_404(Comment, pk=pk).post.get_absolute_url())
def delete_comment(request, pk):
    comment = get_object_or_404(Comment.objects.select_related("post"), pk=pk)
    if not comment.can_be_deleted_by(request.user):
        raise PermissionDenied
    cursor = request_cursor(request)  # the page of older comments it was deleted from
    post = comment.post
    comment.remove()
    page = "" if cursor is None else f"?before={cursor}"
    return redirect(f"{post.get_absolute_url()}{page}#comments")


@login_required
def edit_post(request, pk):
    post = get_object_or_404(Post.objects.shown(), pk=pk)
    if not post.can_be_changed_by(request.user):
        raise PermissionDenied
    form = PostEditForm(request.POST or None, instance=post)
    if request.method == "POST":
        if form.is_valid():
            # the edited fields alone: a full save would write back the like and comment
            # counts read at the start of this request, losing a like committed meanwhile
            form.save(commit=False).save(update_fields=[*PostEditForm.Meta.fields, "edited_at"])
            return redirect(post)
        return render(request, "posts/edit.html", {"form": form, "post": post}, status=400)
    return render(request, "posts/edit.html", {"form": form, "post": post})


@login_required
def delete_post(request, pk):
    post = get_object_or_404(Post.objects.shown(), pk=pk)
    if not post.can_be_changed_by(request.user):
        raise PermissionDenied
    if request.method == "POST":
        post.delete()
        return redirect("profile", username=request.user.username)
    return render(request, "posts/delete.html", {"post": post})
