"""Form text counts like the browser: line breaks arrive as CRLF but count as one
character, in every text field; a refusal for text never costs the chosen photo."""

from unittest import mock

from extagram.core.forms import browser_line_breaks
from extagram.posts.models import ALT_TEXT_MAX, CAPTION_MAX, COMMENT_MAX, Comment, Post
from extagram.testing.base import PASSWORD, BaseTestCase
from extagram.testing.images import jpeg_bytes
from extagram.uploads import images as upload_images


def lines(count, total):
    """`count` lines joined by LF, `total` characters long as a browser counts them."""
    breaks = count - 1
    base, extra = divmod(total - breaks, count)
    return "\n".join("é" * (base + (i < extra)) for i in range(count))


def as_submitted(text):
    """What a browser sends for a textarea holding `text`: every line break as CRLF."""
    return text.replace("\n", "\r\n")


class BrowserLineBreakTests(BaseTestCase):
    def setUp(self):
        self.client.login(username="alice", password=PASSWORD)

    def test_crlf_and_lone_cr_become_lf(self):
        self.assertEqual(browser_line_breaks("a\r\nb\rc\nd\r\r\n"), "a\nb\nc\nd\n\n")

    def test_an_11_line_caption_of_2199_characters_sent_with_crlf_is_posted(self):
        caption = lines(11, 2199)
        self.assertEqual((len(caption), len(as_submitted(caption))), (2199, 2209))
        response = self.upload(jpeg_bytes(), caption=as_submitted(caption))
        post = Post.objects.get()
        self.assertRedirects(response, f"/p/{post.pk}/")
        self.assertEqual(post.caption, caption)

    def test_a_caption_at_the_limit_with_lone_cr_breaks_is_posted(self):
        caption = lines(30, CAPTION_MAX)
        self.upload(jpeg_bytes(), caption=caption.replace("\n", "\r"))
        self.assertEqual(Post.objects.get().caption, caption)

    def test_a_caption_over_the_limit_is_refused_before_the_photo_is_processed(self):
        with mock.patch.object(
            upload_images, "process_photo", wraps=upload_images.process_photo
        ) as processing:
            response = self.upload(jpeg_bytes(), caption=as_submitted(lines(11, 2201)))
        self.assertContains(response, "at most 2200 characters (it has 2201)", status_code=400)
        processing.assert_not_called()
        self.assertFalse(Post.objects.exists())

    def test_alt_text_counts_its_line_breaks_once(self):
        alt = lines(3, ALT_TEXT_MAX)
        self.upload(jpeg_bytes(), alt_text=as_submitted(alt))
        self.assertEqual(Post.objects.get().alt_text, alt)

    def test_a_comment_at_the_limit_sent_with_crlf_is_added(self):
        post = self.make_post()
        body = lines(6, COMMENT_MAX)
        response = self.client.post(f"/p/{post.pk}/comments/", {"body": as_submitted(body)})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Comment.objects.get().body, body)

    def test_a_comment_over_the_limit_is_still_refused(self):
        post = self.make_post()
        body = as_submitted(lines(6, COMMENT_MAX + 1))
        response = self.client.post(f"/p/{post.pk}/comments/", {"body": body})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(Comment.objects.exists())

    def test_an_edit_to_an_11_line_caption_of_2199_characters_sent_with_crlf_is_saved(self):
        post = self.make_post()
        caption, alt = lines(11, 2199), lines(2, ALT_TEXT_MAX)
        response = self.client.post(
            f"/p/{post.pk}/edit/", {"caption": as_submitted(caption), "alt_text": alt}
        )
        self.assertRedirects(response, f"/p/{post.pk}/")
        post.refresh_from_db()
        self.assertEqual((post.caption, post.alt_text), (caption, alt))

    def test_every_text_field_tells_the_browser_the_limit_the_server_checks(self):
        post = self.make_post()
        self.assertContains(self.client.get("/upload/"), f'maxlength="{CAPTION_MAX}"')
        self.assertContains(self.client.get("/upload/"), f'maxlength="{ALT_TEXT_MAX}"')
        self.assertContains(self.client.get(f"/p/{post.pk}/"), f'maxlength="{COMMENT_MAX}"')
        edit = self.client.get(f"/p/{post.pk}/edit/")
        self.assertContains(edit, f'maxlength="{CAPTION_MAX}"')
        self.assertContains(edit, f'maxlength="{ALT_TEXT_MAX}"')

    def test_staff_edits_in_the_admin_count_line_breaks_once_too(self):
        from django.contrib import admin
        from django.test import RequestFactory

        post = self.make_post()
        request = RequestFactory().get("/")
        request.user = self.staff
        form_class = admin.site._registry[Post].get_form(request, post)
        caption = lines(11, 2199)
        data = {"author": self.owner.pk, "caption": as_submitted(caption), "alt_text": ""}
        data.update(created_at_0=post.created_at.date(), created_at_1="12:00:00")
        form = form_class(data, instance=post)
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.cleaned_data["caption"], caption)


class BidiOverrideTests(BaseTestCase):
    """Every free-text field refuses the bidirectional overrides (core/forms.py) and keeps
    the marks and isolates that mixed right-to-left text needs."""

    OVERRIDDEN = "Photo by \u202eevil\u202c"
    MIXED = "\u05e9\u05dc\u05d5\u05dd \u2067abc\u2069 \u200fok"

    def setUp(self):
        self.client.login(username="alice", password=PASSWORD)
        self.post = self.make_post()

    def test_a_caption_or_alt_text_with_an_override_is_refused_and_nothing_is_posted(self):
        for field in ("caption", "alt_text"):
            response = self.upload(jpeg_bytes(), **{field: self.OVERRIDDEN})
            self.assertContains(response, "direction override", status_code=400)
        self.assertEqual(Post.objects.count(), 1)

    def test_a_comment_with_an_override_is_refused(self):
        response = self.client.post(f"/p/{self.post.pk}/comments/", {"body": self.OVERRIDDEN})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(Comment.objects.exists())

    def test_an_edit_with_an_override_is_refused_and_changes_nothing(self):
        response = self.client.post(
            f"/p/{self.post.pk}/edit/", {"caption": self.OVERRIDDEN, "alt_text": ""}
        )
        self.assertEqual(response.status_code, 400)
        self.post.refresh_from_db()
        self.assertEqual(self.post.caption, "A day at the beach")

    def test_a_bio_with_an_override_is_refused(self):
        response = self.client.post(
            "/accounts/profile/", {"display_name": "Alice", "bio": self.OVERRIDDEN}
        )
        self.assertContains(response, "direction override", status_code=400)

    def test_marks_and_isolates_for_mixed_direction_text_are_kept(self):
        response = self.client.post(f"/p/{self.post.pk}/comments/", {"body": self.MIXED})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Comment.objects.get().body, self.MIXED)


class ControlCharacterTests(BaseTestCase):
    """Every free-text field refuses a control character other than a line break or a tab
    (core/forms.py, first_control_character), as display names do, and changes nothing."""

    BELL = "Look\u0007 at this"
    ESCAPE = "\u001b[31mred\u001b[0m"

    def setUp(self):
        self.client.login(username="alice", password=PASSWORD)
        self.post = self.make_post()

    def test_a_caption_or_alt_text_with_a_bell_is_refused_and_nothing_is_posted(self):
        for field in ("caption", "alt_text"):
            response = self.upload(jpeg_bytes(), **{field: self.BELL})
            self.assertContains(response, "control character (U+0007)", status_code=400)
        self.assertEqual(Post.objects.count(), 1)

    def test_a_comment_with_an_escape_sequence_is_refused(self):
        response = self.client.post(f"/p/{self.post.pk}/comments/", {"body": self.ESCAPE})
        self.assertContains(response, "control character (U+001B)", status_code=400)
        self.assertFalse(Comment.objects.exists())

    def test_delete_and_c1_controls_are_refused_too(self):
        for body in ("del\u007f", "next\u0085line", "csi\u009b"):
            response = self.client.post(f"/p/{self.post.pk}/comments/", {"body": body})
            self.assertEqual(response.status_code, 400, repr(body))
        self.assertFalse(Comment.objects.exists())

    def test_an_edit_with_a_control_character_is_refused_and_changes_nothing(self):
        response = self.client.post(
            f"/p/{self.post.pk}/edit/", {"caption": self.BELL, "alt_text": ""}
        )
        self.assertEqual(response.status_code, 400)
        self.post.refresh_from_db()
        self.assertEqual(self.post.caption, "A day at the beach")

    def test_a_bio_with_a_control_character_is_refused_and_changes_nothing(self):
        response = self.client.post(
            "/accounts/profile/", {"display_name": "Alice", "bio": self.ESCAPE}
        )
        self.assertContains(response, "control character (U+001B)", status_code=400)
        self.owner.profile.refresh_from_db()
        self.assertEqual(self.owner.profile.bio, "")

    def test_the_refusal_is_translated(self):
        response = self.client.post(
            f"/p/{self.post.pk}/comments/", {"body": self.BELL}, HTTP_ACCEPT_LANGUAGE="es"
        )
        self.assertContains(response, "carácter de control invisible (U+0007)", status_code=400)

    def test_line_breaks_and_tabs_are_kept(self):
        body = "one\ttwo\r\nthree\rfour"
        response = self.client.post(f"/p/{self.post.pk}/comments/", {"body": body})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Comment.objects.get().body, "one\ttwo\nthree\nfour")


class TextThatShowsNothingTests(BaseTestCase):
    """Every free-text field takes text that shows nothing (zero-width spaces, a Hangul
    filler, a blank Braille pattern...) as empty (core/forms.py, shows_nothing)."""

    BLANKS = (
        "\u200b\u200b",
        "\u3164",
        "\u2800 \u2800",
        "\u200d\ufe0f",
        " \u2060\u00a0",
        "\u034f",  # combining grapheme joiner
        "\u17b4\u17b5",  # Khmer inherent vowels
        "\U000e0100",  # variation selector 17
        "\u180b\u180f",  # Mongolian variation selectors
    )

    def setUp(self):
        self.client.login(username="alice", password=PASSWORD)
        self.post = self.make_post()

    def test_a_comment_that_shows_nothing_is_refused(self):
        for body in self.BLANKS:
            response = self.client.post(f"/p/{self.post.pk}/comments/", {"body": body})
            self.assertContains(response, "This field is required", status_code=400)
        self.assertFalse(Comment.objects.exists())

    def test_a_caption_or_alt_text_that_shows_nothing_is_stored_empty(self):
        for blank in self.BLANKS:
            self.upload(jpeg_bytes(), caption=blank, alt_text=blank)
        self.assertEqual(
            set(Post.objects.exclude(pk=self.post.pk).values_list("caption", "alt_text")),
            {("", "")},
        )

    def test_a_bio_that_shows_nothing_is_stored_empty(self):
        self.client.post("/accounts/profile/", {"display_name": "Alice", "bio": "\u200b"})
        self.owner.profile.refresh_from_db()
        self.assertEqual(self.owner.profile.bio, "")

    def test_text_with_something_to_see_is_kept_as_written(self):
        # an emoji newer than this Python's Unicode tables is "unassigned" to it (U+1FAE9,
        # Unicode 16, on Python 3.13), and a private-use character draws what a font gives
        # it (Apple's logo, U+F8FF): both are something to see
        texts = ("\u200bhi", "\u0301", "\U0001f44d\ufe0f", "\u05e9\u200f", "\U0001fae9", "\uf8ff")
        for text in texts:
            response = self.client.post(f"/p/{self.post.pk}/comments/", {"body": text})
            self.assertEqual(response.status_code, 302, repr(text))
        self.assertEqual(Comment.objects.count(), len(texts))


class UnreadableTextTests(BaseTestCase):
    """Bytes that are not UTF-8 in a form arrive as U+FFFD (Django decodes with
    errors="replace"); every free-text field and the display name refuse them."""

    def setUp(self):
        self.client.login(username="alice", password=PASSWORD)
        self.post = self.make_post()

    def post_raw(self, path, body):
        """POST `body` (bytes, form-urlencoded as sent) to `path`."""
        return self.client.generic(
            "POST", path, body, content_type="application/x-www-form-urlencoded"
        )

    def test_a_comment_with_bytes_that_are_not_utf8_is_refused(self):
        response = self.post_raw(f"/p/{self.post.pk}/comments/", b"body=caf%E9")
        self.assertContains(response, "could not be read", status_code=400)
        self.assertFalse(Comment.objects.exists())

    def test_a_display_name_or_bio_with_them_changes_nothing(self):
        for body in (b"display_name=%FF%FE&bio=", b"display_name=Alice&bio=ol%E9"):
            response = self.post_raw("/accounts/profile/", body)
            self.assertContains(response, "could not be read", status_code=400)
        self.owner.profile.refresh_from_db()
        self.assertEqual((self.owner.profile.display_name, self.owner.profile.bio), ("", ""))

    def test_a_caption_with_them_posts_nothing(self):
        response = self.upload(jpeg_bytes(), caption="x\ufffdy")
        self.assertContains(response, "could not be read", status_code=400)
        self.assertEqual(Post.objects.count(), 1)

    def test_text_in_any_script_is_kept(self):
        response = self.post_raw(f"/p/{self.post.pk}/comments/", "body=café ☕".encode())
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Comment.objects.get().body, "café ☕")
