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
