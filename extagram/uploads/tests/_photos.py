"""Helpers shared by the pipeline tests: run the pipeline, decode what it published."""

import io

from PIL import Image

from extagram.uploads.images import process_photo

MAX_PIXELS = 50_000_000


def process(data, **kwargs):
    """The pipeline's ProcessedPhoto for `data`; JPEGs only unless webp_widths is given
    (the WebP variants have their own tests, test_webp_variants.py)."""
    kwargs.setdefault("max_pixels", MAX_PIXELS)
    kwargs.setdefault("webp_widths", ())
    return process_photo(io.BytesIO(data), **kwargs)


def decoded(variant):
    image = Image.open(io.BytesIO(variant.data))
    image.load()
    return image


def centre(variant):
    image = decoded(variant).convert("RGB")
    return image.getpixel((image.width // 2, image.height // 2))
