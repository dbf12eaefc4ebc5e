from .models import UNREAD_SHOWN, Notification


def social(request):
    """`unread_notifications`: a callable, so the count is queried only by pages that show
    it (the header of a signed-in page), once, with the page; never by fragments."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    count = []

    def unread():
        if not count:
            count.append(Notification.unread_count(user))
        return count[0]

    return {"unread_notifications": unread, "unread_shown": UNREAD_SHOWN}
