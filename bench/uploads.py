"""Upload robustness: what the image pipeline costs on the worst inputs of each kind.

    .venv/bin/python -m bench.uploads            # full-size inputs, ~3 min on 2 cores
    .venv/bin/python -m bench.uploads --small    # tiny inputs: checks the bench runs
    .venv/bin/python -m bench.uploads --page     # only the bytes-per-feed-page table

Every input is processed in a fresh interpreter (so one input's memory never hides
another's); the parent reads that child's peak RSS and CPU time with os.wait4, i.e. the
kernel's rusage of exactly that process, and subtracts an idle child's RSS (same imports,
no image). Three pipelines on the same inputs:

- `current`: extagram.uploads.images.process_photo (libvips, bounded), as posts use it:
  two JPEGs and three WebPs;
- `reference`: the Pillow pipeline Extagram had before issue 9, copied below as
  reference_process_photo_pillow (unbounded: the baseline the issue measured);
- `pillow floor`: Pillow opening and decoding the input, nothing else (JPEG with
  draft()): the least memory any Pillow-based pipeline would need for that input.

Quality: mean absolute error (8-bit levels, all channels) of each pipeline's large output
against an ideal one made from a full Pillow decode, converted to sRGB by LittleCMS and
resized with LANCZOS. Then the 12-MP photo's time through `current`, `current` making
the two JPEGs only (the outputs `reference` makes) and `reference`, interleaved in one
process, 10 runs each: p50 and their ratios.

Then bytes per feed page on a phone (issue 13, lighter pages; see PAGE below): the feed's
HTML and the photo each card makes a 390-px phone at 2x fetch, JPEG only (before) and
with the WebP <source> (after), and each photo's SSIM against its source.

Prints Markdown tables (docs/performance.md, "Upload robustness" and "Lighter pages").
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024


# ------------------------------------------------------------------ the reference pipeline


def reference_process_photo_pillow(fileobj, *, max_pixels, widths=(1080, 480)):
    """REFERENCE ONLY: extagram/uploads/images.py as of commit 7ec577d^ (before issue 9),
    Pillow decode + LANCZOS + JPEG. Returns [large_bytes, small_bytes]. Not bounded:
    never use it for uploads."""
    from PIL import Image, ImageOps

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(fileobj, formats=("JPEG", "PNG", "GIF", "WEBP")) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise ValueError("too many pixels")
            if image.format == "JPEG":
                image.draft("RGB", (max(widths), max(widths)))
            image.seek(0)
            image.load()
            upright = ImageOps.exif_transpose(image)
            if upright.mode in ("RGBA", "LA", "PA") or (
                upright.mode == "P" and "transparency" in upright.info
            ):
                rgba = upright.convert("RGBA")
                picture = Image.new("RGB", rgba.size, "white")
                picture.paste(rgba, mask=rgba.getchannel("A"))
            else:
                picture = upright.convert("RGB")
    out = []
    for max_width in widths:
        resized = picture
        if picture.width > max_width:
            height = max(1, round(picture.height * max_width / picture.width))
            resized = picture.resize((max_width, height), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        resized.save(buffer, "JPEG", quality=85, progressive=True, optimize=True)
        out.append(buffer.getvalue())
    return out


# ------------------------------------------------------------------ inputs


def inputs(small=False):
    """[(name, bytes)]: the worst input of each kind and a normal 12-MP photo."""
    from PIL import Image, ImageCms

    from extagram.testing import images as T
    from extagram.testing.icc import rgb_profile
    from extagram.uploads.images import register_heif

    register_heif()
    big = 700 if small else 7000
    photo = _photo(small)
    p3 = rgb_profile("Display P3")
    wide = ImageCms.profileToProfile(
        photo,
        ImageCms.createProfile("sRGB"),
        ImageCms.ImageCmsProfile(io.BytesIO(p3)),
        outputMode="RGB",
    )
    ramp = Image.linear_gradient("L").resize(photo.size).convert("I")
    sixteen = ramp.point(lambda v: v * 257).convert("I;16")
    return [
        (f"flat lossless WebP {big}x{big}", T.flat_lossless_webp(big)),
        (f"sparse RGBA PNG {big}x{big}", T.sparse_rgba_png(big)),
        (f"progressive JPEG {big}x{big}, 3,000 scans", T.many_scan_jpeg(big, 3000)),
        (f"16-bit grey PNG {photo.width}x{photo.height}", T.encode(sixteen, "PNG")),
        (
            f"Display P3 JPEG {photo.width}x{photo.height}",
            T.encode(wide, "JPEG", quality=90, icc_profile=p3),
        ),
        (f"HEIC {photo.width}x{photo.height}", T.encode(photo, "HEIF", quality=80)),
        (f"AVIF {photo.width}x{photo.height}", T.encode(photo, "AVIF", quality=70)),
        (f"normal JPEG {photo.width}x{photo.height}", _photo_bytes(small)),
    ]


def _photo_bytes(small):
    if small:
        from extagram.testing.images import jpeg_bytes

        return jpeg_bytes(400, 300)
    from bench.loadgen import jpeg_for

    return jpeg_for("12mp")


def _photo(small):
    from PIL import Image

    image = Image.open(io.BytesIO(_photo_bytes(small)))
    image.load()
    return image


# ------------------------------------------------------------------ measuring
#
# The parent imports neither Django nor Pillow and holds no image: a child's ru_maxrss
# starts from its parent's RSS at fork (until exec), so a big parent would hide small
# children. Inputs are written to files by a child, and read by each measuring child.

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extagram.settings")
import django
django.setup()
from bench.uploads import run_pipeline
from extagram.uploads import images  # what every pipeline loads: part of the idle RSS
images.register_heif()
source, out = sys.argv[3], sys.argv[4]
data = open(source, "rb").read() if source else b""
cpu0 = time.process_time()
result = run_pipeline(sys.argv[2], data, out) if data else {"outcome": "idle"}
result["cpu"] = time.process_time() - cpu0
sys.stdout.write(json.dumps(result))
"""


def _child(code, *args, check=True):
    """Run `code` in a fresh interpreter: (stdout, exit code, rusage of exactly it)."""
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(REPO), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "EXTAGRAM_UPLOAD_MEMORY_LIMIT_MB": "4096"},
    )
    out = child.stdout.read()
    err = child.stderr.read()
    _pid, status, usage = os.wait4(child.pid, 0)  # reaps it: Popen must not wait again
    code = os.waitstatus_to_exitcode(status)
    child.returncode = code
    if check and code:
        raise RuntimeError(f"child failed ({code}): {err.decode()[-2000:]}")
    return out, code, usage


def run_pipeline(name, data, out_path):
    """Run one pipeline on `data` in this process; write its large output to out_path.
    Returns {"outcome", "estimate" (bytes the current pipeline reserves, or None)}."""
    from extagram.uploads.images import UnacceptableImage, plan_for, process_photo

    result = {"estimate": None}
    large = None
    try:
        if name == "current":
            result["estimate"] = plan_for(data, 50_000_000, webp=True).memory  # as posts
            large = process_photo(io.BytesIO(data), max_pixels=50_000_000).variants[0].data
        elif name == "reference":
            large = reference_process_photo_pillow(io.BytesIO(data), max_pixels=50_000_000)[0]
        else:  # pillow floor
            from PIL import Image

            from extagram.uploads.images import register_heif

            register_heif()
            with Image.open(io.BytesIO(data)) as image:
                if image.format == "JPEG":
                    image.draft("RGB", (1080, 1080))
                image.load()
        result["outcome"] = "decoded" if name == "pillow floor" else "published"
    except UnacceptableImage as refusal:
        result["outcome"] = f"refused: {str(refusal)[:60]}"
    except Exception as error:  # noqa: BLE001 - the reference and the floor fail their own ways
        result["outcome"] = f"error: {type(error).__name__}"
    if large:
        Path(out_path).write_bytes(large)
    return result


def measure(pipeline, source, out_path):
    """`pipeline` on the file `source` in a fresh interpreter: its result, plus "rss"
    (its peak resident set, bytes) and "cpu" (s) from the kernel's rusage of it."""
    out, code, usage = _child(CHILD, pipeline, source, out_path, check=False)
    try:
        result = json.loads(out)
    except ValueError:
        result = {"outcome": f"died (exit {code})"}
        result["cpu"] = usage.ru_utime + usage.ru_stime
    result["rss"] = usage.ru_maxrss * 1024
    return result


WRITE_INPUTS = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extagram.settings")
import django
django.setup()
import PIL, pyvips
from bench.uploads import inputs
index = []
for i, (label, data) in enumerate(inputs(sys.argv[3] == "small")):
    path = os.path.join(sys.argv[2], f"input-{i}")
    open(path, "wb").write(data)
    index.append((label, path, len(data)))
vips = ".".join(str(pyvips.version(i)) for i in range(3))
versions = f"Pillow {PIL.__version__}, libvips {vips}"
sys.stdout.write(json.dumps({"inputs": index, "versions": versions}))
"""

QUALITY = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
from bench.uploads import ideal_large, mean_abs_error
from extagram.uploads.images import register_heif
register_heif()
ideal = ideal_large(open(sys.argv[2], "rb").read())
errors = {}
for path in sys.argv[3:]:
    if os.path.exists(path):
        errors[path] = mean_abs_error(open(path, "rb").read(), ideal)
sys.stdout.write(json.dumps(errors))
"""


def ideal_large(data, width=1080):
    """The reference for quality: full decode, LittleCMS to sRGB, LANCZOS, 8-bit RGB."""
    from PIL import Image, ImageCms, ImageOps

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        icc = image.info.get("icc_profile")
        image = ImageOps.exif_transpose(image)
        if image.mode.startswith("I"):
            image = image.point(lambda v: v / 257).convert("L")
        if "A" in image.getbands() or "transparency" in image.info:
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            image = flat
        if icc and image.mode in ("RGB", "CMYK"):
            image = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                ImageCms.createProfile("sRGB"),
                renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
                outputMode="RGB",
            )
        image = image.convert("RGB")
        if image.width > width:
            size = (width, max(1, round(image.height * width / image.width)))
            image = image.resize(size, Image.Resampling.LANCZOS)
        return image


def mean_abs_error(jpeg, ideal):
    """Mean absolute difference of a JPEG from the ideal image, in 8-bit levels."""
    from PIL import Image, ImageChops, ImageStat

    image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    if image.size != ideal.size:
        image = image.resize(ideal.size, Image.Resampling.LANCZOS)
    return sum(ImageStat.Stat(ImageChops.difference(image, ideal)).mean) / 3


TIMING = r"""
import io, json, os, sys, time
sys.path.insert(0, sys.argv[1])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extagram.settings")
import django
django.setup()
from bench.uploads import reference_process_photo_pillow
from extagram.uploads.images import process_photo
data = open(sys.argv[2], "rb").read()
runs = int(sys.argv[3])
names = ["current", "current, JPEG only", "reference"]
times = {name: [] for name in names}
for i in range(runs + 1):
    for name in names[i % 3:] + names[:i % 3]:
        t = time.perf_counter()
        if name == "current":
            process_photo(io.BytesIO(data), max_pixels=50_000_000)
        elif name == "current, JPEG only":
            process_photo(io.BytesIO(data), max_pixels=50_000_000, webp_widths=())
        else:
            reference_process_photo_pillow(io.BytesIO(data), max_pixels=50_000_000)
        if i:  # the first round warms both up
            times[name].append(time.perf_counter() - t)
sys.stdout.write(json.dumps(times))
"""


def timing(source, runs):
    return json.loads(_child(TIMING, source, runs)[0])


def _mb(value):
    return "–" if value is None else f"{value / MIB:.0f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="tiny inputs (a smoke run)")
    parser.add_argument("--runs", type=int, default=10, help="12-MP timing runs per pipeline")
    parser.add_argument(
        "--page", action="store_true", help="only the bytes-per-feed-page table (lighter pages)"
    )
    args = parser.parse_args(argv)
    if args.page:
        print_page_weight(args.small)
        return
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    pipelines = ("current", "reference", "pillow floor")
    with tempfile.TemporaryDirectory(prefix="extagram-bench-uploads-") as tmp:
        made = json.loads(_child(WRITE_INPUTS, tmp, "small" if args.small else "full")[0])
        idle = {name: measure(name, "", "")["rss"] for name in pipelines}
        command = "python -m bench.uploads" + (" --small" if args.small else "")
        print(f"## Upload robustness ({started}; `{command}`)\n")
        print(
            f"{made['versions']}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
            "idle child RSS: " + ", ".join(f"{n} {_mb(v)} MB" for n, v in idle.items()) + "\n"
        )
        print(
            "| input | bytes | pipeline | outcome | peak RSS above idle, MB | estimate "
            "reserved, MB | CPU s | error vs ideal (MAE, levels) |"
        )
        print("|---|---:|---|---|---:|---:|---:|---:|", flush=True)
        for i, (label, source, size) in enumerate(made["inputs"]):
            outputs = {name: os.path.join(tmp, f"out-{i}-{name}") for name in pipelines}
            rows = {name: measure(name, source, outputs[name]) for name in pipelines}
            errors = json.loads(_child(QUALITY, source, *outputs.values(), check=False)[0] or "{}")
            for name, r in rows.items():
                error = errors.get(outputs[name])
                print(
                    f"| {label} | {size:,} | {name} | {r['outcome']} | "
                    f"{_mb(max(0, r['rss'] - idle[name]))} | {_mb(r.get('estimate'))} | "
                    f"{r['cpu']:.2f} | {'–' if error is None else f'{error:.2f}'} |",
                    flush=True,
                )
        times = timing(made["inputs"][-1][1], 2 if args.small else args.runs)
    current = statistics.median(times["current"])
    jpeg_only = statistics.median(times["current, JPEG only"])
    reference = statistics.median(times["reference"])
    print(
        f"\nThe normal photo through the pipeline, {len(times['current'])} runs each, "
        "interleaved:\n"
    )
    print("| pipeline | p50 ms | min ms | max ms |")
    print("|---|---:|---:|---:|")
    for name in ("current", "current, JPEG only", "reference"):
        t = times[name]
        print(
            f"| {name} | {statistics.median(t) * 1000:.0f} | {min(t) * 1000:.0f} | "
            f"{max(t) * 1000:.0f} |"
        )
    print(
        f"\ncurrent, JPEG only / reference (p50): {jpeg_only / reference:.2f}x (issue 9's goal: "
        "<= 1.00x, the same two JPEGs)"
    )
    print(
        f"current / reference (p50): {current / reference:.2f}x (current also makes the "
        f"three WebP files: {current / jpeg_only:.2f}x the JPEG-only time)"
    )
    print_page_weight(args.small)


# ------------------------------------------------------------------ lighter pages
#
# Bytes per feed page for a phone (issue 13, goal 3): the signed-out feed's HTML and the
# photo file each post card makes a 390-px-wide phone at 2x fetch, before (JPEG only, the
# page posts without WebP get, which is the page of before the change) and after (the
# <picture>'s WebP source), and each fetched file's SSIM against the source photo at the
# same size. Rendered by the site itself (Django's test client) on a throwaway SQLite
# database and media folder, in a child process.

PHONE_CSS_WIDTH = 390
PHONE_DPR = 2

PAGE = r"""
import json, os, sys, tempfile
sys.path.insert(0, sys.argv[1])
for name in ("DATABASE_URL", "REDIS_URL", "EXTAGRAM_S3_BUCKET", "MEDIA_ROOT"):
    os.environ.pop(name, None)
with tempfile.TemporaryDirectory(prefix="extagram-bench-page-") as tmp:
    os.environ["EXTAGRAM_DATA_DIR"] = tmp  # a throwaway SQLite database and media folder
    os.environ["DJANGO_SETTINGS_MODULE"] = "extagram.settings"
    import django
    django.setup()
    from bench.uploads import page_weight
    sys.stdout.write(json.dumps(page_weight(sys.argv[2] == "small")))
"""


def page_photos(small=False):
    """[(label, bytes)]: the 12 photos of the measured feed page. Camera-sized generated
    photos (blobs plus grain: bench.loadgen's kind, 4032x3024, three grain levels) and,
    when scikit-image is installed, its sample photographs (skimage.data: astronaut,
    coffee, chelsea, rocket; 300-640 px wide, so they have no medium file)."""
    from PIL import Image

    from extagram.testing.images import camera_like_jpeg, encode

    width, height = (806, 604) if small else (4032, 3024)
    photos = [
        (
            f"generated {width}x{height} grain {alpha}",
            camera_like_jpeg(width, height, seed=f"page-{i}", alpha=alpha),
        )
        for i, alpha in enumerate((0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.1, 0.2))
    ]
    from skimage import data as samples

    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        pixels = Image.fromarray(getattr(samples, name)()).convert("RGB")
        photos.append((f"skimage {name} {pixels.width}x{pixels.height}", encode(pixels, "PNG")))
    return photos


def pick_from_srcset(srcset, css_width=PHONE_CSS_WIDTH, dpr=PHONE_DPR):
    """The URL a browser fetches from `srcset` ("url 480w, url 828w, ...") for an image
    shown `css_width` CSS pixels wide (sizes="100vw" on a phone) at device pixel ratio
    `dpr`: Chromium's rule (html_srcset_parser.cc, PickCandidate): the first candidate
    whose density reaches dpr, or the one below it when dpr is under the geometric mean
    of the two densities; the largest when none reaches it."""
    import math

    candidates = []
    for item in srcset.split(","):
        url, width = item.split()
        candidates.append((int(width[:-1]) / css_width, url))
    candidates.sort()
    for (density, url), (next_density, next_url) in zip(candidates, candidates[1:], strict=False):
        if next_density < dpr:
            continue
        return next_url if dpr >= math.sqrt(density * next_density) else url
    return candidates[-1][1]


def ssim(image, source):
    """SSIM of `image` against `source` (both PIL images, same size), on luma (ITU-R
    BT.601 weights), with Wang et al.'s parameters (Gaussian window sigma 1.5, population
    covariance, K1 0.01, K2 0.03), by scikit-image's structural_similarity."""
    import numpy
    from skimage.metrics import structural_similarity

    weights = numpy.array([0.299, 0.587, 0.114])
    a = numpy.asarray(image.convert("RGB"), dtype=numpy.float64) @ weights
    b = numpy.asarray(source.convert("RGB"), dtype=numpy.float64) @ weights
    return structural_similarity(
        a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
    )


def page_weight(small=False):
    """Render the feed with 12 posts and weigh it as a phone fetches it; see PAGE."""
    import gzip
    import html.parser

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client, override_settings
    from PIL import Image

    from extagram.posts.models import Post
    from extagram.uploads.images import process_photo

    class Pictures(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.found, self.current = [], None

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "picture":
                self.current = {}
            elif self.current is not None and tag == "source":
                self.current.setdefault(attrs["type"], attrs["srcset"])
            elif self.current is not None and tag == "img" and "photo" in attrs.get("class", ""):
                self.current["img"] = attrs.get("srcset") or attrs["src"]
                self.found.append(self.current)
                self.current = None

    call_command("migrate", verbosity=0)
    media = Path(settings.MEDIA_ROOT)
    author = get_user_model().objects.create_user("pageweight")
    sources = {}
    for label, data in reversed(page_photos(small)):  # the feed shows the newest first
        photo = process_photo(io.BytesIO(data), max_pixels=settings.UPLOAD_MAX_PIXELS)
        post = Post.objects.create_with_photo(author, photo, alt_text=label)
        sources[post.pk] = (label, data)

    def weigh(page_html):
        """[(the JPEG the <img> srcset picks, the file the whole <picture> picks)]"""
        parser = Pictures()
        parser.feed(page_html)
        return [
            (pick_from_srcset(p["img"]), pick_from_srcset(p.get("image/webp", p["img"])))
            for p in parser.found
        ]

    client = Client()
    # no collectstatic here: static URLs unhashed (a few bytes shorter than in the stack)
    plain_static = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    overrides = override_settings(STORAGES=plain_static, ALLOWED_HOSTS=["testserver"])
    overrides.enable()
    cache.clear()
    after_html = client.get("/").content
    after = weigh(after_html.decode())
    ids = list(Post.objects.order_by("-id").values_list("id", flat=True))[: len(after)]
    # the page of before: the same posts as posts made before WebP are shown
    Post.objects.update(
        image_large_webp="", image_medium_webp="", image_small_webp="", medium_width=0
    )
    cache.clear()  # the post cards are cached
    before_html = client.get("/").content
    before = weigh(before_html.decode())
    overrides.disable()
    photos_out = []
    for pk, (old_url, _), (_, new_url) in zip(ids, before, after, strict=True):
        label, data = sources[pk]
        result = {"label": label}
        full = ideal_large(data, width=10**9)  # the source: a full decode, in sRGB
        for key, url in (("before", old_url), ("after", new_url)):
            blob = (media / url.removeprefix(settings.MEDIA_URL)).read_bytes()
            image = Image.open(io.BytesIO(blob))
            image.load()
            result[f"{key}_bytes"] = len(blob)
            result[f"{key}_size"] = image.size
            result[f"{key}_format"] = image.format
            reference = full.resize(image.size, Image.Resampling.LANCZOS)
            result[f"{key}_ssim"] = ssim(image, reference)
        photos_out.append(result)
    return {
        "html": {
            "before": len(before_html),
            "after": len(after_html),
            # the proxy gzips HTML at level 1 (deploy/proxy/templates/10-http.conf.template)
            "before_gzip": len(gzip.compress(before_html, compresslevel=1)),
            "after_gzip": len(gzip.compress(after_html, compresslevel=1)),
        },
        "photos": photos_out,
    }


def print_page_weight(small=False):
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result = json.loads(_child(PAGE, "small" if small else "full")[0])
    command = "python -m bench.uploads --page" + (" --small" if small else "")
    print(f"\n## Bytes per feed page on a phone ({started}; `{command}`)\n")
    print(
        f"The signed-out feed (12 posts) as a {PHONE_CSS_WIDTH}-px-wide phone at {PHONE_DPR}x "
        "fetches it: the HTML (gzip level 1, as the proxy sends it) and the file each card's "
        "srcset picks; before = JPEG only (the page as it was), after = the <picture>'s "
        "WebP. SSIM (luma, Wang et al.; scikit-image) of each file against the source photo "
        "resized to the file's size (full decode, LANCZOS).\n"
    )
    print("| photo | before: file | bytes | SSIM | after: file | bytes | SSIM | after / before |")
    print("|---|---|---:|---:|---|---:|---:|---:|")
    for p in result["photos"]:
        print(
            f"| {p['label']} | {p['before_format']} {p['before_size'][0]}x{p['before_size'][1]} "
            f"| {p['before_bytes']:,} | {p['before_ssim']:.4f} | {p['after_format']} "
            f"{p['after_size'][0]}x{p['after_size'][1]} | {p['after_bytes']:,} | "
            f"{p['after_ssim']:.4f} | {p['after_bytes'] / p['before_bytes']:.2f}x |"
        )
    html = result["html"]
    before_photos = sum(p["before_bytes"] for p in result["photos"])
    after_photos = sum(p["after_bytes"] for p in result["photos"])
    before = html["before_gzip"] + before_photos
    after = html["after_gzip"] + after_photos
    print(
        f"| **HTML** | gzip | {html['before_gzip']:,} | | gzip | {html['after_gzip']:,} | | "
        f"{html['after_gzip'] / html['before_gzip']:.2f}x |"
    )
    print(
        f"| **page (HTML + 12 photos)** | | **{before:,}** | | | **{after:,}** | | "
        f"**{after / before:.2f}x** |"
    )
    ssims = [p["after_ssim"] for p in result["photos"]]
    old_ssims = [p["before_ssim"] for p in result["photos"]]
    print(
        f"\nSSIM, after: min {min(ssims):.4f}, mean {statistics.mean(ssims):.4f} "
        f"(before: min {min(old_ssims):.4f}, mean {statistics.mean(old_ssims):.4f}); "
        f"photos at or above 0.97: after {sum(s >= 0.97 for s in ssims)}/{len(ssims)}, "
        f"before {sum(s >= 0.97 for s in old_ssims)}/{len(old_ssims)}"
    )
    verdict = "PASS" if after / before <= 0.6 else "MISS"
    print(f"Goal (issue 13, 3): bytes per feed page <= 0.60x: {after / before:.2f}x {verdict}")
    return result


if __name__ == "__main__":
    main()
