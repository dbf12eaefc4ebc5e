"""The image pipeline: sniff, bound, decode, orient, colour-manage, resize, re-encode.

Only pixels leave it: every output is a fresh progressive JPEG, or a fresh lossy WebP
for browsers that take it, written by libvips with no metadata at all (`keep=none`: no
EXIF, XMP, IPTC, comment or ICC profile), in sRGB, so nothing of the uploaded bytes but
their decoded pixels survives.

Decoding is libvips (pyvips + the pyvips-binary wheel) for JPEG, PNG, GIF and WebP: it
shrinks on load (JPEG, WebP) and streams the rest, so a 7000x7000 PNG or WebP costs a
few tens of MB instead of a gigabyte (docs/performance.md, "Upload robustness", has the
measurements that chose it over Pillow). HEIC/HEIF (pillow-heif, libheif + libde265:
the libvips wheel has no HEVC decoder) and AVIF (Pillow's own plugin, libavif) are
decoded whole and their pixels handed to the same libvips steps.

Bounds, per upload, whatever the input (issue 9):

- pixels: `max_pixels` (EXTAGRAM_UPLOAD_MAX_PIXELS), from the header, before decoding;
- memory: an estimate of the decode's peak from the header (format, size, bands,
  progressive or interlaced layout) is reserved from a per-process pool sized from the
  upload service's memory limit (see `budget.py`); an upload whose estimate exceeds the
  pool is refused, one that fits waits until the pool has room;
- CPU: a progressive JPEG may have at most MAX_JPEG_SCANS scans (counted before
  decoding), only the first frame of an animation is decoded, and libvips stops any
  decode that runs past EXTAGRAM_UPLOAD_SECONDS of wall time (its progress callback).

What exceeds a bound raises UnacceptableImage with a message for the user (a 4xx).
"""

import hashlib
import io
import logging
import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

import pyvips
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from PIL import Image

from . import budget
from .formats import ACCEPTED_FORMATS, ACCEPTED_MIME_TYPES  # noqa: F401 -- part of this API

JPEG_QUALITY = 85
# WebP beside the JPEG (issue 13, "lighter pages"): chosen over AVIF by measurement
# (docs/performance.md, "Lighter pages"): libvips' AVIF encoder (libheif + aom) needed
# ~25 B/px of memory (a 1080x1440 photo: +38 MB; 1080x8000: +184 MB) against WebP's ~6,
# for ~10 % fewer bytes at equal SSIM. Q85 at effort 4 keeps SSIM (luma, Wang et al.)
# within ~0.01 of the Q85 JPEG's at 0.72-0.88x its bytes (bench.uploads' page table).
WEBP_QUALITY = 85
WEBP_EFFORT = 4
# The WebP format stores each side in 14 bits: a taller panorama gets its JPEG only.
WEBP_MAX_SIDE = 16383
# libwebp's encoder holds the picture as YUV plus its analysis buffers: measured ~6 B per
# pixel of the largest WebP (a 1080x1440 noise image: +8.3 MB), rounded up.
WEBP_ENCODE_BYTES_PER_PIXEL = 8

# A progressive JPEG's scans are full passes over the image (issue 9: 3,000 scans of a
# 7000x7000 picture, 390 KB, cost ~90 s of CPU). libjpeg's standard progression
# (jcparam.c, jpeg_simple_progression) writes 10 scans for a colour image and 6 for grey;
# mozjpeg's optimised scripts stay within a few dozen. libjpeg-turbo guards its own
# fuzzers with TJPARAM_SCANLIMIT = 500 on images of at most 1 MP (fuzz/decompress.cc);
# our images are up to 50 times larger, so the cap is lower, with ample room above
# anything a camera or editor writes.
MAX_JPEG_SCANS = 100

# Bytes of decode memory per pixel, measured as test_bounded_work's measured() does
# (docs/performance.md, "A phone's 24-MP HEIC"): peak RSS of the whole pipeline above the
# process, less FIXED_OVERHEAD and the file, on 12- and 24-MP photos; rounded up by ~10 %.
# A HEIC goes through pillow-heif's own buffer, and libheif converts a grid's tiles one
# by one into it: an 8-bit RGB one (what phones write) measured 1.9-3.2 B/px; with
# alpha (a second coded picture) 5.4-6.9; 10- or 12-bit samples pass through 16 bits,
# 5.7-6.2 and 10.4-10.8 with alpha. Keyed by (more than 8 bits, alpha).
HEIF_BYTES_PER_PIXEL = {(False, False): 4, (False, True): 8, (True, False): 7, (True, True): 12}
# An AVIF goes through Pillow (libavif's RGB, Pillow's copy, then bytes for libvips):
# 7.2-7.8 B/px at 8 or 10 bits with 4:2:0 chroma, 7.5 at 8 bits with full chroma (4:4:4),
# 10.6-11.0 at 10 or 12 bits with full chroma; with alpha 9.0 (8-bit), 11.0 (10-bit 4:2:0),
# 13.7-14.1 (10- or 12-bit 4:4:4). libvips' header tells the bits, not the chroma: keyed
# by (more than 8 bits, alpha), each the largest of its kind plus ~10 %.
AVIF_BYTES_PER_PIXEL = {(False, False): 9, (False, True): 12, (True, False): 12, (True, True): 16}
# libvips' GIF loader keeps the frame and its RGBA canvas; animated WebP is composed on an
# RGBA canvas.
GIF_BYTES_PER_PIXEL = 8
ANIMATED_WEBP_BYTES_PER_PIXEL = 8
# libvips, its caches and thread buffers while resizing, whatever the input (measured:
# a 12-MP baseline JPEG costs ~38-43 MB above an idle process, most of it this).
FIXED_OVERHEAD = 32 * 1024 * 1024
# Streaming a row-by-row decode through the resize holds a window of rows in float:
# per column and band, measured as ~2 KB (a 7000-px-wide RGBA PNG: +87 MB, 32 of them
# FIXED_OVERHEAD and 7 the output).
STREAM_BYTES_PER_COLUMN_BAND = 2048
# ... which cannot hold more than the whole picture does, in float (4 bytes a sample):
# a 70,000 x 1 panorama was charged 137 MB for a window of rows it does not have.
FLOAT_SAMPLE_BYTES = 4
# libjpeg's largest side (JPEG_MAX_DIMENSION, jmorecfg.h): no JPEG is wider or taller.
JPEG_MAX_SIDE = 65500
# The large picture's pixel bound: 3840 x 2160 = 8,294,400, Mastodon's bound for images
# since 4.2 (mastodon/mastodon#23726). The 1080-px width bounds every ordinary photo; this
# bounds only a very tall one: a full-page phone screenshot (1170 x 12,000) made 1080 x
# 11,077 at full width, whose JPEG and WebP encoders need ~170 MB, over the default pool.
LARGE_MAX_PIXELS = 3840 * 2160

pyvips.cache_set_max(0)  # no operation cache: nothing outlives a request
pyvips.cache_set_max_mem(0)
# One libvips worker thread per photo: the upload service has one CPU and runs photos on
# its gunicorn threads; each libvips thread would add its own row buffers (measured: a
# 7000-px RGBA PNG peaks ~20 MB lower with 1 thread than with 2, for ~10 % more time).
pyvips.concurrency_set(1)
logging.getLogger("pyvips").setLevel(logging.WARNING)  # libvips' progress chatter


class UnacceptableImage(ValueError):
    """The upload is not a photo we can take; the message is shown to the user (a 4xx)."""


@dataclass(frozen=True)
class Variant:
    width_class: str  # "large", "medium" or "small"
    width: int
    height: int
    data: bytes
    format: str = "jpeg"  # "jpeg" or "webp": the file name's extension

    @property
    def storage_name(self):
        digest = hashlib.sha256(self.data).hexdigest()
        extension = "jpg" if self.format == "jpeg" else self.format
        return f"photos/{digest[:2]}/{digest}.{extension}"


@dataclass(frozen=True)
class ProcessedPhoto:
    """The published files of one photo: JPEG "large" and "small" variants always;
    WebP ones ("large", "medium", "small") when asked for and the picture allows."""

    variants: tuple

    def _variant(self, width_class, format="jpeg"):
        return next(v for v in self.variants if v.width_class == width_class and v.format == format)

    def variant(self, width_class, format):
        """The Variant of that width class and format, or None."""
        try:
            return self._variant(width_class, format)
        except StopIteration:
            return None

    @property
    def width(self):
        return self._variant("large").width

    @property
    def height(self):
        return self._variant("large").height

    @property
    def small_width(self):
        return self._variant("small").width


@dataclass(frozen=True)
class Plan:
    """What the header says: format, size, and the decode's estimated peak memory (bytes)."""

    format: str
    width: int
    height: int
    memory: int
    profiled: bool = False  # an ICC profile or CMYK: the colour transform must run


def shown_size(image):
    """(width, height) in px of a pyvips image as it is shown: the sides swap when its
    EXIF orientation (5 to 8) turns it a quarter, as libvips' autorotate does."""
    turned = image.get_typeof("orientation") and image.get("orientation") in (5, 6, 7, 8)
    return (image.height, image.width) if turned else (image.width, image.height)


def large_size(width, height, large_width):
    """(width, height) in px of the large picture made from a `width` x `height` one (as
    shown, after its EXIF orientation): at most `large_width` wide, LARGE_MAX_PIXELS in
    all and JPEG_MAX_SIDE a side, never enlarged, its aspect ratio kept (each side at
    least 1 px)."""
    scale = min(
        1.0,
        large_width / width,
        JPEG_MAX_SIDE / height,
        math.sqrt(LARGE_MAX_PIXELS / (width * height)),
    )
    size = max(1, round(width * scale)), max(1, round(height * scale))
    if size[0] * size[1] > LARGE_MAX_PIXELS:  # both sides rounded up past the bound
        size = max(1, math.floor(width * scale)), max(1, math.floor(height * scale))
    return size


def process_photo(fileobj, *, max_pixels, widths=(1080, 480), square=False, webp_widths=None):
    """Turn an uploaded file into re-encoded sRGB JPEG variants, or raise UnacceptableImage.

    fileobj: a readable binary file (an UploadedFile, BytesIO, ...), at most the upload
    limit. max_pixels: refuse images with more pixels (width x height). widths: (large,
    small) maximum widths in pixels (the large picture also within large_size's bounds);
    smaller photos are never enlarged. square: crop
    the centred square of the picture first (avatars), so both variants are square.
    webp_widths: maximum widths (px, largest first, e.g. (1080, 828, 480)) of WebP
    variants made in the same pass from the same pixels: the first is "large", the last
    "small", one between them "medium" (made only when the photo is wider than it);
    none when the large picture has a side over WEBP_MAX_SIDE. None (the default):
    settings.PHOTO_WEBP_WIDTHS for photos, no WebP for squares (avatars).
    Returns ProcessedPhoto(variants=(large JPEG, small JPEG, *WebP variants)).
    Raises UnacceptableImage (message for the user) for anything unreadable or over a
    bound: pixels, memory (budget.memory_pool()), JPEG scans, decode time.
    """
    if webp_widths is None:
        webp_widths = () if square else settings.PHOTO_WEBP_WIDTHS
    data = fileobj.read()
    plan = plan_for(data, max_pixels, widths[0], webp=bool(webp_widths))
    with budget.memory_pool().reserve(plan.memory):
        try:
            variants = _pipeline(data, plan, widths, square, webp_widths)
        except UnacceptableImage:
            raise
        except (pyvips.Error, OSError, SyntaxError, ValueError, EOFError, IndexError) as error:
            if "killed" in str(error) or "cancel" in str(error).lower():
                raise UnacceptableImage(
                    _("This image took too long to process. Please upload a smaller image.")
                ) from None
            raise _unreadable() from None
        finally:
            budget.release_freed_memory()
    return ProcessedPhoto(variants=tuple(variants))


def _unreadable():
    return UnacceptableImage(
        _(
            "This file is not a photo we can read. Please upload a JPEG, PNG, GIF, WebP, "
            "HEIC or AVIF image."
        )
    )


def _too_many_pixels(max_pixels):
    return _("This image has too many pixels (the limit is %(mp)s megapixels).") % {
        "mp": round(max_pixels / 1_000_000)
    }


# ------------------------------------------------------------------ sniffing and bounds


def sniff(data):
    """The format of `data` from its first bytes: one of ACCEPTED_FORMATS, or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp":
        size = int.from_bytes(data[:4], "big")
        brands = {data[i : i + 4] for i in range(8, min(size, 256), 4)}
        if brands & {b"avif", b"avis"}:
            return "AVIF"
        if brands & {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}:
            return "HEIF"
    return None


def plan_for(data, max_pixels, large_width=1080, webp=False):
    """Read the header of `data` and decide whether we may decode it: a Plan, or
    UnacceptableImage for unknown formats, empty or too many pixels, too many JPEG
    scans. Decodes no pixels. webp: WebP variants will be encoded too (their encoder's
    memory is added)."""
    fmt = sniff(data)
    if fmt is None:
        raise _unreadable()
    try:
        if fmt in ("HEIF", "AVIF"):
            with _open_with_pillow(data, fmt) as image:
                width, height = image.size
                if fmt == "AVIF" and image.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                    width, height = height, width  # stored as taken, shown turned
                bands = len(image.getbands())
                profiled = bool(image.info.get("icc_profile"))
                alpha = "A" in image.getbands()
                if fmt == "HEIF":
                    deep = image.info.get("bit_depth", 8) > 8  # pillow-heif's
                else:  # Pillow's AVIF tells no bit depth; libvips' header does
                    deep = pyvips.Image.heifload_buffer(data).format == "ushort"
        else:
            header = _vips_load(data, fmt)
            (width, height), bands = shown_size(header), header.bands
            profiled = bool(header.get_typeof("icc-profile-data")) or (
                header.interpretation == "cmyk"
            )
            pages = header.get("n-pages") if header.get_typeof("n-pages") else 1
    except (pyvips.Error, OSError, SyntaxError, ValueError, EOFError, IndexError):
        raise _unreadable() from None
    if width < 1 or height < 1:
        raise UnacceptableImage(_("This image is empty."))
    if width * height > max_pixels:
        raise UnacceptableImage(_too_many_pixels(max_pixels))

    pixels = width * height
    out_width, out_height = large_size(width, height, large_width)
    decode = 0
    if fmt == "JPEG":
        decode = _jpeg_decode_memory(data)
        # shrink-on-load decodes at 1/2, 1/4 or 1/8 scale when the photo is that much larger
        shrink = next((s for s in (8, 4, 2) if width // s >= out_width), 1)
        decode += _row_window(width // shrink, height // shrink, bands)
    elif fmt in ("PNG", "GIF", "WEBP"):
        decode = _row_window(width, height, bands)
    if fmt == "PNG" and _png_interlaced(data):
        sample = 2 if header.format == "ushort" else 1
        decode += pixels * bands * sample  # Adam7 cannot be streamed: decoded whole
    elif fmt == "GIF":
        decode += pixels * GIF_BYTES_PER_PIXEL
    elif fmt == "WEBP" and pages > 1:
        decode += pixels * ANIMATED_WEBP_BYTES_PER_PIXEL
    elif fmt == "HEIF":
        decode = pixels * HEIF_BYTES_PER_PIXEL[deep, alpha]
    elif fmt == "AVIF":
        decode = pixels * AVIF_BYTES_PER_PIXEL[deep, alpha]
    # the large variant is held in memory (RGB, twice while encoding)
    out_pixels = out_width * out_height
    output = out_pixels * 3 * 2
    if webp:
        output += out_pixels * WEBP_ENCODE_BYTES_PER_PIXEL
    # the file's bytes twice: as the request brought it (Django spools a large one to the
    # upload container's /tmp, a tmpfs: memory) and as read for decoding
    held = FIXED_OVERHEAD + 2 * len(data)
    return Plan(fmt, width, height, held + decode + output, profiled)


def _row_window(width, height, bands):
    """Bytes a streamed decode holds for its window of rows: STREAM_BYTES_PER_COLUMN_BAND
    per column and band, at most the whole `width` x `height` picture in float."""
    return min(STREAM_BYTES_PER_COLUMN_BAND, height * FLOAT_SAMPLE_BYTES) * width * bands


def jpeg_scan_info(data):
    """(frame, scans) of a JPEG: frame = (sof_marker, width, height, components) where
    components is [(h_sampling, v_sampling)], scans = the number of SOS markers.
    Walks the marker segments and skips entropy-coded data (byte stuffing guarantees
    0xFF there is followed by 0x00 or a restart marker), so markers inside an embedded
    EXIF thumbnail are not counted. Raises ValueError on a malformed file."""
    pos, frame, scans, n = 2, None, 0, len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            raise ValueError("expected a marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segment = data[pos + 4 : pos + 2 + length]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD):
            height = int.from_bytes(segment[1:3], "big")
            width = int.from_bytes(segment[3:5], "big")
            count = segment[5]
            comps = [(segment[7 + 3 * i] >> 4, segment[7 + 3 * i] & 15) for i in range(count)]
            frame = (marker, width, height, comps)
        pos += 2 + length
        if marker == 0xDA:
            scans += 1
            if scans > MAX_JPEG_SCANS:
                break
            while True:  # entropy-coded data up to the next real marker
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= n:
                    return frame, scans
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    pos += 2
                    continue
                break
    if frame is None:
        raise ValueError("no frame header")
    return frame, scans


def _jpeg_decode_memory(data):
    """Bytes a JPEG decode holds beyond streaming: a progressive (or multi-scan) JPEG
    keeps every DCT coefficient of the image (libjpeg's whole-image coefficient buffer,
    64 x 2 bytes per 8x8 block of each component) until its last scan; a baseline JPEG
    is decoded row by row at the shrink-on-load scale."""
    (marker, width, height, comps), scans = jpeg_scan_info(data)
    if scans > MAX_JPEG_SCANS:
        raise UnacceptableImage(
            _(
                "This JPEG has too many progressive scans (more than %(limit)s), which makes "
                "it very slow to decode. Please save it again as a standard JPEG."
            )
            % {"limit": MAX_JPEG_SCANS}
        )
    if marker in (0xC0, 0xC1) and scans <= 1:
        return 0
    hmax = max(h for h, _v in comps)
    vmax = max(v for _h, v in comps)
    blocks = sum(-(-width * h // (8 * hmax)) * -(-height * v // (8 * vmax)) for h, v in comps)
    return blocks * 64 * 2


def _png_interlaced(data):
    return len(data) > 28 and data[12:16] == b"IHDR" and data[28] == 1


# ------------------------------------------------------------------ decoding


_LOADERS = {
    "JPEG": pyvips.Image.jpegload_buffer,
    "PNG": pyvips.Image.pngload_buffer,
    "GIF": pyvips.Image.gifload_buffer,
    "WEBP": pyvips.Image.webpload_buffer,
}


def _vips_load(data, fmt, **options):
    # fail_on="truncated": a cut-off file is refused instead of padded with grey
    return _LOADERS[fmt](data, access="sequential", fail_on="truncated", **options)


@contextmanager
def _open_with_pillow(data, fmt):
    register_heif()  # also sets up Pillow's AVIF plugin
    with Image.open(io.BytesIO(data), formats=(fmt,)) as image:
        yield image


_heif_lock = threading.Lock()
_heif_registered = False


def register_heif():
    """Make Pillow open HEIC/HEIF (pillow-heif's opener) and set up its AVIF plugin, one
    decoder thread each; once per process (thread-safe), later calls do nothing. The
    upload pipeline calls it before opening a photo; tests and the bench call it before
    opening HEIC/AVIF files themselves."""
    global _heif_registered
    with _heif_lock:
        if not _heif_registered:
            import pillow_heif
            from PIL import AvifImagePlugin

            # one decoder thread each: fewer frame buffers; two uploads run at once
            pillow_heif.options.DECODE_THREADS = 1
            AvifImagePlugin.DEFAULT_MAX_THREADS = 1
            # AVIF stays with Pillow's own plugin; pillow-heif only opens HEIC/HEIF
            pillow_heif.register_heif_opener(thumbnails=False)
            _heif_registered = True


def _pipeline(data, plan, widths, square=False, webp_widths=()):
    large_width, small_width = widths
    huge = 10_000_000  # thumbnail's height bound: only the width limits
    box_width, box_height = large_size(plan.width, plan.height, large_width)
    common = {"height": box_height, "size": "down"}
    if square:
        # libvips shrinks until the shorter side fits, then crops the centre; a picture
        # smaller than the square is not enlarged, so its centre is cropped below
        box_width = large_width
        common.update(height=large_width, crop="centre")
    if plan.profiled:
        # Relative colorimetric: colours inside sRGB keep their exact values, those
        # outside it are clipped to its edge (docs/performance.md, "Colour").
        common.update(export_profile="srgb", intent="relative")
    if plan.format in ("HEIF", "AVIF"):
        large = _vips_from_pillow(data, plan.format).thumbnail_image(box_width, **common)
    else:
        options = "[fail_on=truncated]"  # the loader's first page only (n=1) by default
        large = pyvips.Image.thumbnail_buffer(data, box_width, option_string=options, **common)
    if square and large.width != large.height:
        side = min(large.width, large.height)
        large = large.crop((large.width - side) // 2, (large.height - side) // 2, side, side)
    large = _deadline(_to_srgb8(large)).copy_memory()
    small = large.thumbnail_image(small_width, height=huge, size="down")
    variants = [_encode(large, "large"), _encode(small, "small")]
    if webp_widths and max(large.width, large.height) <= WEBP_MAX_SIDE:
        for index, width in enumerate(webp_widths):
            if index == 0:
                variants.append(_encode_webp(large, "large"))
            elif index == len(webp_widths) - 1:
                if width != small_width:
                    small = large.thumbnail_image(width, height=huge, size="down")
                variants.append(_encode_webp(small, "small"))
            elif width < large.width:
                resized = large.thumbnail_image(width, height=huge, size="down")
                variants.append(_encode_webp(resized, "medium"))
    return variants


def _vips_from_pillow(data, fmt):
    """Decode a HEIF (pillow-heif) or AVIF (Pillow); its pixels and ICC profile as a
    vips image. libheif applies the file's rotation and mirroring (irot/imir) itself."""
    if fmt == "HEIF":
        return _vips_from_heif(data)
    with _open_with_pillow(data, fmt) as image:
        image.load()
        # Pillow keeps libavif's decoder (its YUV frame) for seeking to other frames; we
        # take the first frame only, so free it before copying the pixels (~1.8 B/px)
        if hasattr(image, "_decoder"):
            image._decoder = None
        icc = image.info.get("icc_profile")
        # Pillow reports the file's irot/imir as an EXIF orientation and leaves the pixels
        # as stored; libvips turns them upright while it resizes (no copy here)
        orientation = image.getexif().get(0x0112, 1)
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        bands = len(image.getbands())
        vips_image = pyvips.Image.new_from_memory(
            image.tobytes(), image.width, image.height, bands, "uchar"
        )
    vips_image = vips_image.copy(interpretation="srgb" if bands >= 3 else "b-w")
    if icc:
        vips_image.set_type(pyvips.GValue.blob_type, "icc-profile-data", icc)
    if orientation in range(2, 9):
        vips_image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return vips_image


def _vips_from_heif(data):
    # pillow-heif's decoded buffer is wrapped, not copied: ~5 B/px instead of ~9 via Pillow
    import pillow_heif

    register_heif()
    heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
    bands = len(heif.mode)
    if heif.mode not in ("RGB", "RGBA") or heif.stride != heif.size[0] * bands:
        with _open_with_pillow(data, "HEIF") as image:  # rare layouts: the Pillow way
            image.load()
            rgb = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            heif_icc = image.info.get("icc_profile")
            bands = len(rgb.getbands())
            vips_image = pyvips.Image.new_from_memory(
                rgb.tobytes(), rgb.width, rgb.height, bands, "uchar"
            )
    else:
        heif_icc = heif.info.get("icc_profile")
        vips_image = pyvips.Image.new_from_memory(heif.data, *heif.size, bands, "uchar")
    vips_image = vips_image.copy(interpretation="srgb")
    if heif_icc:
        vips_image.set_type(pyvips.GValue.blob_type, "icc-profile-data", heif_icc)
    return vips_image


def _to_srgb8(image):
    """3-band 8-bit sRGB, transparency flattened onto white."""
    if image.format != "uchar" or image.bands < 3 or image.interpretation != "srgb":
        image = image.colourspace("srgb")  # grey -> RGB, 16 -> 8 bits (alpha kept)
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    if image.bands > 3:
        image = image.extract_band(0, n=3)
    return image.cast("uchar")


def _deadline(image):
    """Stop computing `image` once it has taken budget.cpu_seconds() of wall time."""
    limit = time.monotonic() + budget.cpu_seconds()
    image.set_progress(True)

    def check(img, _progress):
        if time.monotonic() > limit:
            img.set_kill(True)

    image.signal_connect("eval", check)
    return image


def _encode(image, width_class):
    data = image.jpegsave_buffer(
        Q=JPEG_QUALITY,
        optimize_coding=True,
        interlace=True,
        keep=pyvips.enums.ForeignKeep.NONE,
    )
    return Variant(width_class, image.width, image.height, data)


def _encode_webp(image, width_class):
    data = image.webpsave_buffer(
        Q=WEBP_QUALITY, effort=WEBP_EFFORT, keep=pyvips.enums.ForeignKeep.NONE
    )
    return Variant(width_class, image.width, image.height, data, "webp")
