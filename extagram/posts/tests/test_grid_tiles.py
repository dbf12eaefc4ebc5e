"""A profile's grid tiles are rendered once and kept (extagram/posts/tiles.py) and are
never stale: everything a tile shows is in its key. What a visitor sees is the grid's
own former rendering, byte for byte."""

from django.core.cache import cache
from django.template import engines
from django.test.utils import override_script_prefix
from django.utils import translation

from extagram.posts.models import Post
from extagram.posts.tiles import TILES, page_tiles
from extagram.testing.base import PASSWORD, BaseTestCase

# A tile as the grid wrote it before its tiles were kept: the reference.
TILE = (
    '{% load i18n %}<a class="grid-item" href="{{ post.get_absolute_url }}"><picture>'
    '{% if post.image_small_webp %}<source type="image/webp" srcset="{{ post.small_webp_url }}">'
    '{% endif %}<img src="{{ post.small_url }}" width="{{ post.small_width }}" alt="'
    "{% if post.alt_text %}{{ post.alt_text }}{% else %}{% blocktranslate with "
    "name=post.author.username %}Photo by {{ name }}{% endblocktranslate %}{% endif %}"
    '" loading="lazy" decoding="async"></picture></a>'
)


class GridTilesTests(BaseTestCase):
    def setUp(self):
        cache.clear()
        TILES.copies.clear()
        self.described = self.make_post(self.owner)
        Post.objects.filter(pk=self.described.pk).update(alt_text='Two "cats" & a dog')
        self.plain = self.make_post(self.owner)
        Post.objects.filter(pk=self.plain.pk).update(image_small_webp="")  # a JPEG only

    def template_tiles(self, ids):
        reference = engines["django"].from_string(TILE)
        return [reference.render({"post": post}) for post in Post.in_id_order(ids)]

    def test_each_tile_is_the_grids_own_rendering(self):
        ids = [self.plain.pk, self.described.pk]
        for language in ("en", "es"):
            for prefix in ("/", "/sub/"):
                with (
                    self.subTest(language=language, prefix=prefix),
                    translation.override(language),
                    override_script_prefix(prefix),
                ):
                    rows, first = page_tiles(ids)  # rendered and kept
                    self.assertEqual([row.pk for row in rows], ids)
                    self.assertEqual(first, self.template_tiles(ids))
                    self.assertEqual(page_tiles(ids)[1], first)

    def tile_renders(self):
        """How many tiles the owner's profile renders from the template."""
        return self.renders_of("posts/_grid_item.html", "extagram.posts.tiles", "/u/alice/")

    def test_a_tile_is_rendered_once_for_every_visitor_and_process(self):
        self.assertEqual(self.tile_renders(), 2)
        self.client.login(username="bob", password=PASSWORD)
        self.assertEqual(self.tile_renders(), 0)
        TILES.copies.clear()  # as another process: the shared cache has them
        self.assertEqual(self.tile_renders(), 0)
        self.make_post(self.owner)
        self.assertEqual(self.tile_renders(), 1)

    def test_an_edited_alt_text_shows_at_once(self):
        self.client.login(username="alice", password=PASSWORD)
        self.client.get("/u/alice/")
        edit = {"caption": "new caption", "alt_text": "A red bicycle"}
        self.client.post(f"/p/{self.plain.pk}/edit/", edit)
        self.assertContains(self.client.get("/u/alice/"), 'alt="A red bicycle"')

    def test_a_new_handle_shows_at_once_in_the_photo_by_text(self):
        self.assertContains(self.client.get("/u/alice/"), 'alt="Photo by alice"')
        self.owner.username = "alicia"
        self.owner.save()
        self.assertContains(self.client.get("/u/alicia/"), 'alt="Photo by alicia"')

    def test_a_deleted_post_is_left_out(self):
        page_tiles([self.plain.pk, self.described.pk])
        self.described.delete()
        rows, tiles = page_tiles([self.plain.pk, self.described.pk])
        self.assertEqual(([row.pk for row in rows], len(tiles)), ([self.plain.pk], 1))
