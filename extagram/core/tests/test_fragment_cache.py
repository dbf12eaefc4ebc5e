"""FragmentCache.get_or_render: a page's fragments kept, or read in full, rendered and kept
under the key of what each shows; a row whose object is gone is left out."""

from types import SimpleNamespace

from django.core.cache import cache
from django.test import SimpleTestCase

from extagram.core.memo import FragmentCache


def row(pk, name):
    return SimpleNamespace(pk=pk, name=name)


class GetOrRenderTests(SimpleTestCase):
    def setUp(self):
        cache.clear()
        self.fragments = FragmentCache(kept=16, seconds=60)
        self.objects = {1: row(1, "ada"), 2: row(2, "bob"), 3: row(3, "cy")}
        self.reads = []

    def read_in_full(self, pks):
        self.reads.append(sorted(pks))
        return [self.objects[pk] for pk in pks if pk in self.objects]

    def render(self, obj):
        return f"k:{obj.pk}:{obj.name}", f"<li>{obj.name}</li>"

    def page(self, rows):
        keys = [f"k:{r.pk}:{r.name}" for r in rows]
        found = self.fragments.get_or_render(rows, keys, self.read_in_full, self.render)
        return [(r.pk, html) for r, html in found]

    def test_it_renders_what_is_not_kept_and_keeps_it(self):
        rows = [row(2, "bob"), row(1, "ada")]
        self.assertEqual(self.page(rows), [(2, "<li>bob</li>"), (1, "<li>ada</li>")])
        self.assertEqual(self.page(rows), [(2, "<li>bob</li>"), (1, "<li>ada</li>")])
        self.assertEqual(self.reads, [[1, 2]])
        self.assertEqual(cache.get("k:1:ada"), "<li>ada</li>")

    def test_it_reads_only_the_missing_ones(self):
        self.page([row(1, "ada")])
        self.page([row(1, "ada"), row(3, "cy")])
        self.assertEqual(self.reads, [[1], [3]])

    def test_a_row_whose_object_is_gone_is_left_out(self):
        del self.objects[2]
        self.assertEqual(self.page([row(1, "ada"), row(2, "bob")]), [(1, "<li>ada</li>")])

    def test_what_changed_since_the_row_was_read_is_kept_under_its_own_key(self):
        self.objects[1] = row(1, "ada-lovelace")  # renamed between the row and the full read
        self.assertEqual(self.page([row(1, "ada")]), [(1, "<li>ada-lovelace</li>")])
        self.assertIsNone(cache.get("k:1:ada"))
        self.assertEqual(cache.get("k:1:ada-lovelace"), "<li>ada-lovelace</li>")

    def test_another_process_finds_the_kept_fragments_in_the_shared_cache(self):
        self.page([row(1, "ada")])
        self.fragments = FragmentCache(kept=16, seconds=60)  # no copies of its own
        self.assertEqual(self.page([row(1, "ada")]), [(1, "<li>ada</li>")])
        self.assertEqual(self.reads, [[1]])
