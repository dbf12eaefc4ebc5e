"""The image pipeline: decode, check, orient, strip, resize, re-encode.

Nothing of the uploaded bytes survives except decoded pixels: every output is
a fresh JPEG written by Pillow with no metadata, so EXIF (GPS), comments and
anything appended to the file are gone.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
JPEG_QUALITY = 85


class UnacceptableImage(ValueError):
    """The upload is not a photo we can take; the message is shown to the user."""


@dataclass(frozen=True)
class Variant:
    width_class: str  # "large" or "small"
    width: int
    height: int
    data: bytes

    @property
    def storage_name(self):
        digest = hashlib.sha256(self.data).hexdigest()
        return f"photos/{digest[:2]}/{digest}.jpg"


@dataclass(frozen=True)
class ProcessedPhoto:
    variants: tuple

    def _variant(self, width_class):
        return next(v for v in self.variants if v.width_class == width_class)

    @property
    def width(self):
        return self._variant("large").width

    @property
    def height(self):
        return self._variant("large").height

    @property
    def small_width(self):
        return self._variant("small").width


def process_photo(fileobj, *, max_pixels, widths=(1080, 480)):
    """Turn an uploaded file into re-encoded JPEG variants, or raise UnacceptableImage."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(fileobj, formats=ACCEPTED_FORMATS) as image:
                _check_pixel_count(image, max_pixels)
                picture = _decode(image, max(widths))
    except UnacceptableImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnacceptableImage(_too_many_pixels(max_pixels)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError):
        raise UnacceptableImage(
            _("This file is not a photo we can read. Please upload a JPEG, PNG, GIF or WebP image.")
        ) from None

    large_width, small_width = widths
    return ProcessedPhoto(
        variants=(
            _encode(picture, large_width, "large"),
            _encode(picture, small_width, "small"),
        )
    )


def _too_many_pixels(max_pixels):
    return _("This image has too many pixels (the limit is %(mp)s megapixels).") % {
        "mp": round(max_pixels / 1_000_000)
    }


def _check_pixel_count(image, max_pixels):
    width, height = image.size
    if width < 1 or height < 1:
        raise UnacceptableImage(_("This image is empty."))
    if width * height > max_pixels:
        raise UnacceptableImage(_too_many_pixels(max_pixels))


def _decode(image, target_width):
    """Fully decode the first frame, upright, as RGB on a white background."""
    if image.format == "JPEG":
        # Decode at a reduced scale when the photo is much bigger than we need:
        # far less memory and time for a 12-megapixel photo.
        image.draft("RGB", (target_width, target_width))
    image.seek(0)
    image.load()  # raises on truncated or corrupt data
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    ):
        rgba = upright.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return upright.convert("RGB")


def _encode(picture, max_width, width_class):
    if picture.width > max_width:
        height = max(1, round(picture.height * max_width / picture.width))
        picture = picture.resize((max_width, height), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=True)
    return Variant(width_class, picture.width, picture.height, buffer.getvalue())
