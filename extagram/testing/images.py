"""Images made in memory for tests, demo content and benchmarks."""

import io

from PIL import Image, ImageDraw

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def picture(width=640, height=480, color=(40, 120, 200)):
    image = Image.new("RGB", (width, height), color)
    draw = ImageDraw.Draw(image)
    # A bright marker in the top-left corner lets tests see where "up" went.
    draw.rectangle([0, 0, width // 4, height // 4], fill=(255, 0, 0))
    return image


def encode(image, fmt="JPEG", **params):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def heif(image, bit_depth=8, **params):
    """`image` (RGB or RGBA) as HEIC bytes of 8 or 10 bits a sample; params for
    pillow-heif's save, e.g. tile_size=512 for a grid of 512-px tiles, as phones write."""
    import pillow_heif

    mode, pixels = image.mode, image.tobytes()
    if bit_depth > 8:  # each 8-bit sample as the high byte of a little-endian 16-bit one
        pixels = bytes(b for sample in pixels for b in (0, sample))
        mode += ";16"
    buffer = io.BytesIO()
    pillow_heif.from_bytes(mode, image.size, pixels).save(buffer, quality=60, **params)
    return buffer.getvalue()


def jpeg_bytes(width=640, height=480, color=(40, 120, 200), quality=90):
    return encode(picture(width, height, color), "JPEG", quality=quality)


def jpeg_with_gps_and_orientation(width=640, height=480, orientation=6):
    image = picture(width, height)
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "TestCam"  # Make
    exif[GPS_IFD] = {1: "N", 2: (41.0, 23.0, 0.0), 3: "E", 4: (2.0, 10.0, 0.0)}
    return encode(image, "JPEG", exif=exif.tobytes(), quality=90)


def noisy_jpeg(width, height, seed=1, quality=85):
    """A photo-like JPEG (noise does not compress), e.g. for size limits."""
    import random

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    return encode(image, "JPEG", quality=quality)


def camera_like_jpeg(width, height, seed="extagram", alpha=0.2, quality=85):
    """A JPEG sized like a camera's: smooth colour blobs plus grain, so it neither
    compresses away (a flat picture) nor is pure noise (e.g. 4000x3000: ~3.5 MB at
    alpha 0.3). The load driver and the bench upload these."""
    import random

    rng = random.Random(seed)
    cw, ch = max(2, width // 64), max(2, height // 64)
    blobs = Image.frombytes("RGB", (cw, ch), rng.randbytes(3 * cw * ch))
    blobs = blobs.resize((width, height), Image.Resampling.BICUBIC)
    grain = Image.merge("RGB", [Image.effect_noise((width, height), 30)] * 3)
    return encode(Image.blend(blobs, grain, alpha), "JPEG", quality=quality)


# --- Inputs of the kinds that hurt image pipelines (issue 9): tests and bench/uploads.py.


def flat_lossless_webp(size=7000, color=(90, 140, 200)):
    """A ~2 KB lossless WebP of one colour, size x size: tiny file, huge decode."""
    return encode(Image.new("RGB", (size, size), color), "WEBP", lossless=True)


def sparse_rgba_png(size=7000, seed=3):
    """A ~200 KB RGBA PNG, size x size: transparent but for a few noisy patches."""
    import random

    rng = random.Random(seed)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    for i in range(8):
        patch = Image.frombytes("RGBA", (96, 96), rng.randbytes(96 * 96 * 4))
        image.paste(patch, (i * size // 9, i * size // 9))
    return encode(image, "PNG")


def jpeg_segments(data):
    """[(marker, start, end)] of a JPEG's segments; an SOS segment runs to the end of
    its entropy-coded data. Markers are the second byte (0xD8 SOI, 0xDA SOS, ...)."""
    segments, pos = [], 2
    segments.append((0xD8, 0, 2))
    while pos + 2 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError(f"no marker at {pos}")
        marker = data[pos + 1]
        if marker == 0xD9:
            segments.append((marker, pos, pos + 2))
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        end = pos + 2 + length
        if marker == 0xDA:
            while end + 1 < len(data) and not (
                data[end] == 0xFF and data[end + 1] not in (0x00, *range(0xD0, 0xD8))
            ):
                end += 1
        segments.append((marker, pos, end))
        pos = end
    return segments


def jpeg_markers(data):
    """The marker bytes of a JPEG's segments in order, e.g. [0xD8, 0xE0, 0xDB, ...]."""
    return [marker for marker, _start, _end in jpeg_segments(data)]


def many_scan_jpeg(size=7000, scans=3000, color=(120, 120, 120)):
    """A progressive JPEG whose last scan (a refinement, empty for a flat picture) is
    repeated until there are `scans` scans: each one is a full pass for the decoder,
    but costs the file only ~130 bytes. 7000 px and 3,000 scans make ~390 KB."""
    data = encode(Image.new("RGB", (size, size), color), "JPEG", progressive=True, quality=90)
    segments = jpeg_segments(data)
    sos = [s for s in segments if s[0] == 0xDA]
    last_start = sos[-1][1]
    # the last scan with its Huffman tables, if any were defined right before it
    i = segments.index(sos[-1])
    while i > 0 and segments[i - 1][0] == 0xC4:
        i -= 1
        last_start = segments[i][1]
    last = data[last_start : sos[-1][2]]
    eoi = segments[-1][1]
    return data[:eoi] + last * (scans - len(sos)) + data[eoi:]


def srgb_to(profile_bytes, rgb=(255, 0, 0), size=(64, 64)):
    """A picture of one sRGB colour converted into the given ICC profile (relative
    colorimetric), as an image with the profile attached: what a camera or editor
    writes when it saves in that colour space."""
    from PIL import ImageCms

    source = Image.new("RGB", size, rgb)
    target = ImageCms.ImageCmsProfile(io.BytesIO(profile_bytes))
    converted = ImageCms.profileToProfile(
        source,
        ImageCms.createProfile("sRGB"),
        target,
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
        outputMode="RGB",
    )
    converted.info["icc_profile"] = profile_bytes
    return converted
