from functools import partial

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from extagram.accounts.models import Profile, active_member
from extagram.accounts.usernames import canonical
from extagram.core.caching import shared_cache_for_visitors
from extagram.core.redirects import canonical_redirect, redirect_back
from extagram.core.views import ShownBadRequest, form_action
from extagram.posts.models import Post
from extagram.posts.views import feed_page, request_cursor
from extagram.uploads.forms import AvatarForm

from .forms import ProfileForm
from .models import (
    UNREAD_SHOWN,
    Follow,
    Notification,
    Tag,
    explore_page_ids,
    home_feeds_changed,
    home_page_ids,
    read_unread_count_ahead,
    tag_named,
    tagged_page_ids,
    tags_matching,
)
from .notification_items import NotificationRow, notification_items
from .people_items import PersonRow, people_items
from .text import NotATag, canonical_tag, search_text, valid_tag

LIST_PAGE_SIZE = 50
SEARCH_RESULTS = 20
SEARCH_QUERY_MAX = 100
SUGGESTIONS = 8


def _member(username):
    return active_member(canonical(username))


def _wants_json(request):
    return "application/json" in request.headers.get("Accept", "")


def _follow_answer(request, owner, following):
    if _wants_json(request):
        context = {"owner": owner, "follows_owner": following}
        html = render_to_string("social/_follow_form.html", context, request=request)
        followers = Follow.counts(owner)["followers"]
        count_html = render_to_string(
            "social/_follower_count.html", {"owner": owner, "followers": followers}
        )
        return JsonResponse(
            {"following": following, "followers": followers, "html": html, "count_html": count_html}
        )
    return redirect_back(request, "profile", username=owner.username)


@login_required
@form_action("profile")
def follow(request, username):
    owner = _member(username)
    try:
        Follow.follow(request.user, owner)
    except ValueError:
        raise ShownBadRequest(_("You cannot follow yourself.")) from None
    return _follow_answer(request, owner, True)


@login_required
@form_action("profile")
def unfollow(request, username):
    owner = _member(username)
    Follow.unfollow(request.user, owner)
    return _follow_answer(request, owner, False)


def _people_page(request, username, which):
    """A member's followers or the people they follow (`which`), a page of them; a 404
    for no such active member, a permanent redirect to the canonical handle's address
    (/u/Ana/followers/ to /u/ana/followers/, as the profile does)."""
    handle = canonical(username)
    owner = active_member(handle)
    if handle != username:
        return canonical_redirect(request, which, username=handle)
    cursor = request_cursor(request)
    rows = PersonRow.follows(owner.pk, which, cursor, LIST_PAGE_SIZE + 1)
    has_more = len(rows) > LIST_PAGE_SIZE
    rows = rows[:LIST_PAGE_SIZE]
    context = {
        "owner": owner,
        "which": which,
        "people": people_items(rows),
        "next_cursor": rows[-1].follow_id if has_more else None,
    }
    return render(request, "social/people.html", context)


@shared_cache_for_visitors
def followers(request, username):
    return _people_page(request, username, "followers")


@shared_cache_for_visitors
def following(request, username):
    return _people_page(request, username, "following")


def suggested_accounts(user, count=SUGGESTIONS):
    """Up to `count` recently active members `user` does not follow yet (newest posts first).

    Reads the authors of the newest 200 posts (the primary key, backwards), so its
    cost does not grow with the site.
    """
    recent = list(Post.objects.order_by("-id").values_list("author_id", flat=True)[:200])
    # of those authors only: a member may follow thousands
    followed = Follow.objects.filter(follower=user, followee_id__in=set(recent))
    followed = set(followed.values_list("followee_id", flat=True))
    ids = []
    for author_id in recent:
        if author_id != user.pk and author_id not in followed and author_id not in ids:
            ids.append(author_id)
            if len(ids) == count:
                break
    users = get_user_model().objects.select_related("profile").in_bulk(ids)
    return [users[i] for i in ids if i in users and users[i].is_active]


def home(request):
    """The signed-in home feed: posts by the people the member follows, and their own.

    When it is empty, it suggests accounts (evaluated only then, by the template).
    """
    context = {"suggestions": lambda: suggested_accounts(request.user)}
    page_ids = partial(home_page_ids, request.user)
    with read_unread_count_ahead(request.user):  # with the page's ids: one round trip
        return feed_page(
            request, page_ids, "social/home.html", context, ids_stale=home_feeds_changed
        )


@shared_cache_for_visitors
def explore(request):
    """Everyone's posts, newest first (the site's global feed)."""
    with read_unread_count_ahead(request.user):  # with the page's ids: one round trip
        return feed_page(
            request, explore_page_ids, "social/explore.html", {}, ids_stale=home_feeds_changed
        )


@shared_cache_for_visitors
def tag(request, name):
    canonical_name = canonical_tag(name)
    if canonical_name != name:
        # only to a tag: a link that is none in any case (a broken %E9, which Django keeps
        # as the text "%E9") gets its 404 here, not a redirect to "%e9" first
        if not valid_tag(canonical_name):
            raise NotATag(name)
        return canonical_redirect(request, "tag", name=canonical_name)
    found = tag_named(name)
    if found is None:
        # a well-formed tag no post is filed under (yet): another member's comment may
        # link to it (text.post_tags_of)
        if not valid_tag(name):
            raise NotATag(name)
        found, page_ids = Tag(name=name), lambda cursor, size: []
    else:
        page_ids = partial(tagged_page_ids, found)
    return feed_page(request, page_ids, "social/tag.html", {"tag": found})


def search(request):
    """Accounts by handle or display-name prefix, tags by prefix: SEARCH_RESULTS of each.
    Display names and tags are matched without case or accents (text.search_key)."""
    raw = request.GET.get("q", "")
    query = search_text(raw)[:SEARCH_QUERY_MAX]
    people = PersonRow.matching(query.lstrip("@"), SEARCH_RESULTS)
    context = {
        "query": raw.strip()[:SEARCH_QUERY_MAX],
        "people": people,
        "people_items": people_items(people),
        "tags": tags_matching(query.lstrip("#"), SEARCH_RESULTS),
    }
    return render(request, "social/search.html", context)


@never_cache
def unread_count(request):
    """The header's unread count, for the script that refreshes it when the tab is shown again.

    JSON: {"unread": n, "html": the badge (empty when n is 0)}; n is counted up to
    UNREAD_SHOWN + 1 (cached: Notification.unread_count). Signed out: 401 and no count.
    """
    if not request.user.is_authenticated:
        return JsonResponse({"error": "sign in"}, status=401)
    unread = Notification.unread_count(request.user)
    html = ""
    if unread:
        context = {"unread": unread, "unread_shown": UNREAD_SHOWN}
        html = " " + render_to_string("social/_unread_badge.html", context, request=request)
    return JsonResponse({"unread": unread, "html": html})


@never_cache
@login_required
def notifications(request):
    """The member's notifications, newest first; the ones shown are marked read."""
    cursor = request_cursor(request)
    rows = NotificationRow.newest(request.user.pk, cursor, LIST_PAGE_SIZE + 1)
    has_more = len(rows) > LIST_PAGE_SIZE
    rows = rows[:LIST_PAGE_SIZE]
    unread = [row.pk for row in rows if not row.read]
    if unread:
        Notification.mark_read(request.user, unread)
    next_cursor = rows[-1].pk if has_more else None
    context = {"notifications": notification_items(rows), "next_cursor": next_cursor}
    return render(request, "social/notifications.html", context)


@login_required
@form_action("notifications")
def mark_all_read(request):
    """Every one of the member's notifications marked read, then back to the list."""
    if Notification.mark_read(request.user):
        messages.success(request, _("All your notifications are marked as read."))
    return redirect("notifications")


@login_required
def edit_profile(request):
    """The member's own profile: display name and bio. Nobody edits another's."""
    profile, _created = Profile.objects.get_or_create(
        user=request.user, defaults={"handle": request.user.username}
    )
    form = ProfileForm(request.POST or None, instance=profile)
    context = {"form": form, "avatar_form": AvatarForm()}
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("Your profile has been saved."))
            return redirect("profile", username=request.user.username)
        return render(request, "social/edit_profile.html", context, status=400)
    return render(request, "social/edit_profile.html", context)
