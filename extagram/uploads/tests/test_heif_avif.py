"""HEIC/HEIF (what iPhones save) and AVIF uploads: accepted, bounded, published as JPEGs."""

import pytest
from PIL import Image

from extagram.testing.icc import rgb_profile
from extagram.testing.images import encode, picture, srgb_to
from extagram.uploads.images import ACCEPTED_FORMATS, UnacceptableImage, plan_for, sniff

from ._photos import centre, decoded, process

pillow_heif = pytest.importorskip("pillow_heif")
pillow_heif.register_heif_opener()


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_it_accepts_the_format_and_publishes_both_jpeg_sizes(fmt):
    photo = process(encode(picture(2000, 1500), fmt, quality=80), widths=(1080, 480))
    large, small = photo.variants
    assert (large.width, large.height, small.width) == (1080, 810, 480)
    for variant in photo.variants:
        assert decoded(variant).format == "JPEG"
    # the red marker of picture() is still top-left: upright, the right colour
    r, g, b = decoded(large).getpixel((20, 20))
    assert r > 200 and g < 60 and b < 60


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_its_colours_are_published_in_srgb(fmt):
    profile = rgb_profile("Display P3")
    image = srgb_to(profile, (255, 0, 0), size=(128, 128))
    photo = process(encode(image, fmt, quality=90, icc_profile=profile))
    r, g, b = centre(photo.variants[0])
    assert r > 240 and g < 20 and b < 20, (r, g, b)


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_transparency_flattens_onto_white(fmt):
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    photo = process(encode(image, fmt, quality=90))
    assert min(centre(photo.variants[0])) > 245


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_it_is_held_to_the_pixel_limit_before_decoding(fmt):
    data = encode(picture(400, 300), fmt)
    with pytest.raises(UnacceptableImage, match="too many pixels"):
        process(data, max_pixels=400 * 300 - 1)


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_its_whole_decode_is_charged_to_the_memory_pool(fmt):
    plan = plan_for(encode(picture(1000, 1000), fmt), 50_000_000)
    assert plan.memory > 1000 * 1000 * 9


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_a_truncated_file_is_refused(fmt):
    data = encode(picture(800, 600), fmt)
    with pytest.raises(UnacceptableImage):
        process(data[: len(data) // 2])


def test_files_are_recognised_by_their_brands_not_their_names():
    assert sniff(encode(picture(32, 32), "HEIF")) == "HEIF"
    assert sniff(encode(picture(32, 32), "AVIF")) == "AVIF"
    assert sniff(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom") is None  # an MP4 video
    assert {"HEIF", "AVIF"} <= set(ACCEPTED_FORMATS)


def test_a_video_in_an_iso_container_is_refused():
    with pytest.raises(UnacceptableImage, match="not a photo"):
        process(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom" + bytes(64))


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
@pytest.mark.parametrize(
    "orientation, size, marker", [(6, (480, 640), "top-right"), (3, (640, 480), "bottom-right")]
)
def test_it_is_published_upright(fmt, orientation, size, marker):
    # the encoders turn the EXIF orientation into the file's own irot/imir boxes
    exif = Image.Exif()
    exif[0x0112] = orientation
    large = decoded(process(encode(picture(640, 480), fmt, exif=exif.tobytes())).variants[0])
    assert large.size == size
    x = large.width - 20
    y = 20 if marker == "top-right" else large.height - 20
    r, g, b = large.convert("RGB").getpixel((x, y))
    assert r > 200 and g < 60 and b < 60, (r, g, b)


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_the_plan_reads_the_sides_as_the_photo_is_shown(fmt):
    exif = Image.Exif()
    exif[0x0112] = 6  # the encoders turn it into the file's irot box
    plan = plan_for(encode(picture(640, 480), fmt, exif=exif.tobytes()), 50_000_000)
    assert (plan.width, plan.height) == (480, 640)
