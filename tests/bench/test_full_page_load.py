"""The bench's full page load (issue 13, goal 1): which assets a phone fetches, the wrk
script that requests them in turn, and the asset-vs-feed goal lines (no timing asserted)."""

from bench import wrk
from bench.report import FULL_PAGE, Report
from bench.run import page_assets
from tests.bench.test_bench_report import wrk_result

FEED = """
<link rel="stylesheet" href="/static/extagram/extagram.b2b7845dc529.css">
<img src="/static/extagram/logo.6988d436d20b.svg">
<img class="photo" src="/media/photos/0d/big1.jpg"
     srcset="/media/photos/99/small1.jpg 480w, /media/photos/0d/big1.jpg 1080w">
<img class="photo" src="/media/photos/0e/big2.jpg"
     srcset="/media/photos/98/small2.jpg 480w, /media/photos/0e/big2.jpg 1080w">
<img class="avatar" src="/media/avatars/a64.jpg"
     srcset="/media/avatars/a64.jpg 1x, /media/avatars/a160.jpg 2x">
<img class="avatar" src="/static/extagram/avatar.3bdb75bf6e20.svg">
<img class="avatar" src="/static/extagram/avatar.3bdb75bf6e20.svg">
<script src="/static/extagram/extagram.e78fe965b288.js"></script>
<a href="/p/3/">a post</a>
"""


def test_a_phone_fetches_each_asset_once_at_the_width_it_picks_from_srcset():
    assets = page_assets(FEED)
    assert sorted(assets) == sorted(
        [
            "/static/extagram/extagram.b2b7845dc529.css",
            "/static/extagram/logo.6988d436d20b.svg",
            "/media/photos/0d/big1.jpg",
            "/media/photos/0e/big2.jpg",
            "/media/avatars/a160.jpg",
            "/static/extagram/avatar.3bdb75bf6e20.svg",
            "/static/extagram/extagram.e78fe965b288.js",
        ]
    )
    assert "/media/photos/99/small1.jpg" not in assets and "/p/3/" not in assets


def test_in_a_picture_the_phone_fetches_the_webp_source_not_the_jpeg_img():
    html = """
<a class="photo-link"><picture>
    <source type="image/webp" srcset="/media/photos/01/s.webp 480w, /media/photos/02/m.webp 828w,
      /media/photos/03/l.webp 1080w" sizes="(max-width: 640px) 100vw, 614px">
    <img class="photo" src="/media/photos/0d/big1.jpg"
         srcset="/media/photos/99/small1.jpg 480w, /media/photos/0d/big1.jpg 1080w">
  </picture></a>
<a class="photo-link"><picture>
    <img class="photo" src="/media/photos/0e/big2.jpg"
         srcset="/media/photos/98/small2.jpg 480w, /media/photos/0e/big2.jpg 1080w">
  </picture></a>
"""
    assert page_assets(html) == ["/media/photos/02/m.webp", "/media/photos/0e/big2.jpg"]


def test_the_wrk_script_requests_the_pages_paths_in_turn():
    script = wrk.Load("http://127.0.0.1:8080/", paths=("/", "/static/a.css")).script()
    assert 'local bench_paths = {"/", "/static/a.css"}' in script
    assert "function request()" in script
    assert "function request()" not in wrk.Load("http://127.0.0.1:8080/").script()


def test_photos_and_css_are_judged_against_the_microcached_feed_of_the_same_run():
    report = Report()
    report.add(1, "feed, signed out", wrk_result(10000.0, 2.0, 40.0), posts=100)
    report.add(4, "photo via proxy -> media", wrk_result(9000.0, 2.0, 30.0))
    report.add(4, "static CSS via proxy -> static", wrk_result(7000.0, 2.0, 50.0))
    report.add(4, FULL_PAGE, wrk_result(600.0, 3.0, 40.0), posts=100)
    goals = {g: (m, s) for g, _, m, s in report.goals()}
    assert goals["photo via proxy -> media / signed-out feed: req/s"] == (
        "9,000 / 10,000 = 0.90x",
        "PASS",
    )
    assert goals["photo via proxy -> media: p99 vs the signed-out feed's"][1] == "PASS"
    assert goals["static CSS via proxy -> static / signed-out feed: req/s"][1] == "MISS"
    assert goals["static CSS via proxy -> static: p99 vs the signed-out feed's"][1] == "MISS"
    assert f"| 4 | {FULL_PAGE} | 100 | 600.0 |" in report.markdown()


def test_without_the_feed_the_asset_goals_are_not_measured():
    report = Report()
    report.add(4, "photo via proxy -> media", wrk_result(9000.0, 2.0, 30.0))
    goals = {g: s for g, _, _, s in report.goals()}
    assert goals["photo via proxy -> media / signed-out feed"] == "n/a"
