"""Colours: embedded ICC profiles are converted to sRGB, every mode publishes its tones."""

import pytest
from PIL import Image

from extagram.testing.icc import SPACES, rgb_profile
from extagram.testing.images import encode, srgb_to

from ._photos import centre, decoded, process

TOLERANCE = 6  # JPEG at quality 85 of a flat colour, and 8-bit rounding in the transforms


def close(actual, expected, tolerance=TOLERANCE):
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


@pytest.mark.parametrize("space", sorted(SPACES))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_srgb_red_saved_in_a_wide_gamut_profile_publishes_as_srgb_red(space, fmt):
    profile = rgb_profile(space)
    image = srgb_to(profile, (255, 0, 0))
    params = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    photo = process(encode(image, fmt, icc_profile=profile, **params))
    for variant in photo.variants:
        assert close(centre(variant), (255, 0, 0)), (space, centre(variant))


@pytest.mark.parametrize("rgb", [(40, 120, 200), (200, 180, 40), (128, 128, 128)])
def test_an_in_gamut_colour_in_adobe_rgb_keeps_its_srgb_values(rgb):
    profile = rgb_profile("Adobe RGB (1998)")
    photo = process(encode(srgb_to(profile, rgb), "JPEG", quality=95, icc_profile=profile))
    assert close(centre(photo.variants[0]), rgb), centre(photo.variants[0])


def test_a_photo_without_a_profile_is_taken_as_srgb():
    photo = process(encode(Image.new("RGB", (64, 64), (40, 120, 200)), "PNG"))
    assert close(centre(photo.variants[0]), (40, 120, 200))


def grey_ramp(mode, top):
    """A horizontal ramp from 0 to `top` in `mode`."""
    ramp = Image.linear_gradient("L").rotate(90).resize((256, 64))
    if mode.startswith("I"):
        return ramp.convert("I").point(lambda v: v * (top / 255)).convert(mode)
    return ramp.convert(mode)


@pytest.mark.parametrize("mode", ["I;16", "I;16B"])
def test_sixteen_bit_greys_publish_the_same_tones_as_eight_bit(mode):
    photo = process(encode(grey_ramp(mode, 65535), "PNG"))
    image = decoded(photo.variants[0]).convert("L")
    for x in (10, 128, 245):
        expected = x * 255 // 255
        assert abs(image.getpixel((x, 32)) - expected) <= TOLERANCE, (x, image.getpixel((x, 32)))


def test_grey_publishes_grey():
    photo = process(encode(Image.new("L", (64, 64), 100), "PNG"))
    assert close(centre(photo.variants[0]), (100, 100, 100))


def test_one_bit_black_and_white_publishes_black_and_white():
    image = Image.new("1", (64, 64), 1)
    image.paste(0, (0, 0, 32, 64))
    photo = process(encode(image, "PNG"))
    published = decoded(photo.variants[0]).convert("RGB")
    assert close(published.getpixel((8, 32)), (0, 0, 0))
    assert close(published.getpixel((56, 32)), (255, 255, 255))


def half_transparent(mode, colour):
    """Left half opaque `colour`, right half fully transparent."""
    rgba = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    rgba.paste(Image.new("RGBA", (32, 64), (*colour, 255)), (0, 0))
    if mode == "LA":
        return rgba.convert("LA")
    if mode == "PA":
        return rgba.convert("PA")
    if mode == "P":
        image = rgba.convert("RGB").quantize(4)
        corner = image.getpixel((63, 0))
        image.info["transparency"] = corner
        return image
    return rgba


@pytest.mark.parametrize(
    "mode, fmt", [("RGBA", "PNG"), ("LA", "PNG"), ("P", "PNG"), ("P", "GIF"), ("RGBA", "WEBP")]
)
def test_transparent_areas_flatten_onto_white_and_opaque_ones_keep_their_colour(mode, fmt):
    colour = (200, 30, 30) if mode != "LA" else (90, 90, 90)
    photo = process(encode(half_transparent(mode, colour), fmt))
    published = decoded(photo.variants[0]).convert("RGB")
    expected = colour if mode != "LA" else (90, 90, 90)
    assert close(published.getpixel((8, 32)), expected), published.getpixel((8, 32))
    assert close(published.getpixel((56, 32)), (255, 255, 255)), published.getpixel((56, 32))


def test_a_palette_image_with_alpha_flattens_onto_white():
    # PA cannot be written as PNG; Pillow writes it as WebP (through RGBA)
    image = Image.new("PA", (64, 64), (0, 0))
    image.putpalette([200, 30, 30] * 256)
    image.paste((0, 255), (0, 0, 32, 64))
    photo = process(encode(image, "WEBP", lossless=True))
    published = decoded(photo.variants[0]).convert("RGB")
    assert close(published.getpixel((8, 32)), (200, 30, 30))
    assert close(published.getpixel((56, 32)), (255, 255, 255))


def test_sixteen_bit_rgb_with_alpha_publishes_its_colour_and_white():
    import pyvips

    # Pillow cannot write 16-bit RGB(A) PNGs; libvips can: (50000, 10000, 40000) is
    # (194, 39, 155) in 8 bits; the right half is transparent
    colour = pyvips.Image.black(64, 64, bands=3) + [50000, 10000, 40000]
    alpha = pyvips.Image.black(64, 64).cast("ushort").draw_rect(65535, 0, 0, 32, 64, fill=True)
    image = colour.bandjoin(alpha).cast("ushort").copy(interpretation="rgb16")
    photo = process(image.pngsave_buffer(bitdepth=16))
    published = decoded(photo.variants[0]).convert("RGB")
    assert close(published.getpixel((8, 32)), (194, 39, 155)), published.getpixel((8, 32))
    assert close(published.getpixel((56, 32)), (255, 255, 255))


@pytest.mark.parametrize(
    "cmyk, rgb",
    [((0, 0, 0, 0), (255, 255, 255)), ((0, 0, 0, 255), (35, 31, 32)), ((0, 255, 255, 0), None)],
)
def test_a_cmyk_jpeg_with_adobes_inverted_samples_publishes_the_right_tones(cmyk, rgb):
    # Pillow writes CMYK JPEGs as Photoshop does: an Adobe APP14 marker, inverted samples.
    data = encode(Image.new("CMYK", (64, 64), cmyk), "JPEG", quality=95)
    assert b"Adobe" in data
    published = centre(process(data).variants[0])
    if rgb is None:  # full magenta and yellow: a red
        r, g, b = published
        assert r > 180 and g < 80 and b < 80, published
    else:
        assert close(published, rgb, tolerance=40), published


def test_a_cmyk_jpeg_is_not_published_as_its_negative():
    light = centre(
        process(encode(Image.new("CMYK", (64, 64), (10, 10, 10, 0)), "JPEG")).variants[0]
    )
    assert min(light) > 200, light
