"""WebP beside the JPEG (issue 13, lighter pages): made in the same pass from the same
pixels, at the photo widths a browser picks from, with nothing but pixels, in sRGB."""

import pytest
from PIL import Image

from extagram.testing.icc import SPACES, rgb_profile
from extagram.testing.images import encode, jpeg_with_gps_and_orientation, picture, srgb_to
from extagram.uploads.images import WEBP_ENCODE_BYTES_PER_PIXEL, WEBP_MAX_SIDE, plan_for

from ._photos import MAX_PIXELS, centre, decoded, process

WIDTHS = (1080, 828, 480)
SECRET = b"Home: 12 Example Street"
TOLERANCE = 6  # lossy WebP of a flat colour, 8-bit rounding in the transforms


def webp(photo):
    return {v.width_class: v for v in photo.variants if v.format == "webp"}


def riff_chunks(data):
    """The four-character codes of a WebP file's top-level RIFF chunks (RIFF, the WebP
    container, https://developers.google.com/speed/webp/docs/riff_container)."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert int.from_bytes(data[4:8], "little") == len(data) - 8  # nothing appended
    chunks, pos = [], 12
    while pos < len(data):
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        chunks.append(data[pos : pos + 4].decode("ascii"))
        pos += 8 + size + (size & 1)
    assert pos == len(data)
    return chunks


def test_a_photo_gets_webp_at_the_large_medium_and_small_widths_beside_its_jpegs():
    photo = process(encode(picture(2000, 1500), "JPEG"), webp_widths=WIDTHS)
    sizes = {(v.format, v.width_class): (v.width, v.height) for v in photo.variants}
    assert sizes == {
        ("jpeg", "large"): (1080, 810),
        ("jpeg", "small"): (480, 360),
        ("webp", "large"): (1080, 810),
        ("webp", "medium"): (828, 621),
        ("webp", "small"): (480, 360),
    }
    for variant in webp(photo).values():
        assert decoded(variant).format == "WEBP"
        assert decoded(variant).size == (variant.width, variant.height)
        assert variant.storage_name.endswith(".webp")
    # the same picture: its red corner marker is where the JPEG has it
    r, g, b = decoded(webp(photo)["large"]).convert("RGB").getpixel((20, 20))
    assert r > 200 and g < 60 and b < 60


def test_a_photo_narrower_than_the_medium_width_gets_no_medium_file():
    photo = process(encode(picture(700, 500), "JPEG"), webp_widths=WIDTHS)
    assert sorted(webp(photo)) == ["large", "small"]
    assert (webp(photo)["large"].width, webp(photo)["small"].width) == (700, 480)


def test_a_picture_too_tall_for_webp_gets_its_jpegs_only():
    photo = process(encode(picture(40, WEBP_MAX_SIDE + 1), "PNG"), webp_widths=WIDTHS)
    assert webp(photo) == {}
    assert [v.format for v in photo.variants] == ["jpeg", "jpeg"]


def test_avatars_and_callers_that_ask_for_none_get_no_webp():
    data = encode(picture(400, 300), "JPEG")
    assert webp(process(data, widths=(160, 64), square=True, webp_widths=None)) == {}
    assert webp(process(data, webp_widths=())) == {}


def test_photos_get_the_configured_webp_widths_by_default(settings):
    settings.PHOTO_WEBP_WIDTHS = (1080, 828, 480)
    photo = process(encode(picture(2000, 1500), "JPEG"), webp_widths=None)
    assert sorted(webp(photo)) == ["large", "medium", "small"]


def test_the_webp_encoder_memory_is_reserved_before_decoding():
    data = encode(picture(2000, 1500), "JPEG")
    without = plan_for(data, MAX_PIXELS, 1080).memory
    with_webp = plan_for(data, MAX_PIXELS, 1080, webp=True).memory
    assert with_webp - without == 1080 * 810 * WEBP_ENCODE_BYTES_PER_PIXEL


@pytest.mark.parametrize(
    "source",
    ["exif+gps+orientation", "xmp+icc+comment", "png text"],
)
def test_the_webp_files_carry_nothing_but_pixels(source):
    if source == "exif+gps+orientation":
        data = jpeg_with_gps_and_orientation(1200, 900)
    elif source == "xmp+icc+comment":
        exif = Image.Exif()
        exif[0x010E] = SECRET.decode()
        data = encode(
            picture(1200, 900),
            "JPEG",
            comment=SECRET,
            exif=exif.tobytes(),
            xmp=b"<x:xmpmeta>" + SECRET + b"</x:xmpmeta>",
            icc_profile=rgb_profile("Display P3"),
        )
    else:
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", SECRET.decode())
        info.add_itxt("XML:com.adobe.xmp", SECRET.decode())
        data = encode(picture(1200, 900), "PNG", pnginfo=info)
    photo = process(data, webp_widths=WIDTHS)
    assert len(webp(photo)) == 3
    for variant in webp(photo).values():
        # a simple lossy WebP: one VP8 bitstream chunk, no VP8X (the extended format that
        # carries ICCP, EXIF and XMP chunks), nothing after it
        assert riff_chunks(variant.data) == ["VP8 "]
        assert SECRET not in variant.data and b"GPS" not in variant.data
        image = decoded(variant)  # Pillow's WebP parser: no metadata found either
        assert not {"icc_profile", "exif", "xmp"} & set(image.info), image.info


def test_the_webp_is_upright_like_the_jpeg():
    photo = process(jpeg_with_gps_and_orientation(640, 480, orientation=6), webp_widths=WIDTHS)
    assert {(v.width, v.height) for v in webp(photo).values()} == {(480, 640)}


def test_srgb_red_stays_red_in_the_webp():
    photo = process(encode(Image.new("RGB", (900, 600), (255, 0, 0)), "PNG"), webp_widths=WIDTHS)
    for variant in webp(photo).values():
        r, g, b = centre(variant)
        assert r >= 255 - TOLERANCE and g <= TOLERANCE and b <= TOLERANCE, (r, g, b)


@pytest.mark.parametrize("space", sorted(SPACES))
def test_srgb_red_saved_in_a_wide_gamut_profile_is_srgb_red_in_the_webp(space):
    profile = rgb_profile(space)
    data = encode(srgb_to(profile, (255, 0, 0), size=(900, 600)), "JPEG", quality=95,
                  icc_profile=profile)  # fmt: skip
    photo = process(data, webp_widths=WIDTHS)
    assert len(webp(photo)) == 3
    for variant in webp(photo).values():
        r, g, b = centre(variant)
        assert r >= 255 - TOLERANCE and g <= TOLERANCE and b <= TOLERANCE, (space, (r, g, b))


@pytest.mark.parametrize("rgb", [(40, 120, 200), (200, 180, 40), (128, 128, 128)])
def test_a_colour_keeps_its_srgb_values_in_the_webp(rgb):
    photo = process(encode(Image.new("RGB", (900, 600), rgb), "PNG"), webp_widths=WIDTHS)
    for variant in webp(photo).values():
        assert all(abs(a - e) <= TOLERANCE for a, e in zip(centre(variant), rgb, strict=True))
