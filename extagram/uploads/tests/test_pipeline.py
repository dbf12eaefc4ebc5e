import pytest
from PIL import Image

from extagram.testing.images import (
    GPS_IFD,
    encode,
    jpeg_bytes,
    jpeg_with_gps_and_orientation,
    picture,
)
from extagram.uploads.images import UnacceptableImage

from ._photos import decoded, process


def test_it_removes_gps_and_all_other_exif():
    photo = process(jpeg_with_gps_and_orientation())
    for variant in photo.variants:
        image = decoded(variant)
        assert GPS_IFD not in image.getexif()
        assert len(image.getexif()) == 0
        assert b"TestCam" not in variant.data
        assert "exif" not in image.info


def test_it_applies_the_exif_orientation():
    # Orientation 6: the camera was turned; the upright picture is portrait.
    photo = process(jpeg_with_gps_and_orientation(width=640, height=480, orientation=6))
    large = decoded(photo.variants[0])
    assert (large.width, large.height) == (480, 640)
    # The red marker that was top-left is now top-right.
    r, g, b = large.getpixel((large.width - 20, 20))
    assert r > 200 and g < 80 and b < 80


def test_it_drops_a_php_payload_appended_to_a_jpeg():
    payload = b"<?php system($_GET['cmd']); ?>"
    photo = process(jpeg_bytes() + payload)
    for variant in photo.variants:
        assert payload not in variant.data
        assert b"<?php" not in variant.data


def test_it_refuses_a_pixel_bomb():
    # A tiny PNG that claims 20,000 x 20,000 pixels (400 megapixels).
    bomb = encode(Image.new("1", (20_000, 20_000)), "PNG")
    assert len(bomb) < 100_000
    with pytest.raises(UnacceptableImage, match="too many pixels"):
        process(bomb)


def test_it_refuses_an_image_just_over_a_configured_pixel_limit():
    with pytest.raises(UnacceptableImage):
        process(jpeg_bytes(101, 100), max_pixels=100 * 100)


@pytest.mark.parametrize(
    "data",
    [
        b"just some text, not a photo\n",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"<!doctype html><html><script>alert(1)</script></html>",
        b"",
        b"\xff\xd8\xff",
    ],
    ids=["text", "pdf", "svg", "html", "empty", "jpeg-magic-only"],
)
def test_it_refuses_files_that_are_not_images(data):
    with pytest.raises(UnacceptableImage, match="not a photo"):
        process(data)


def test_it_refuses_a_truncated_jpeg():
    data = jpeg_bytes(800, 600)
    with pytest.raises(UnacceptableImage):
        process(data[: len(data) // 2])


def test_it_refuses_a_truncated_png():
    data = encode(picture(400, 300), "PNG")
    with pytest.raises(UnacceptableImage):
        process(data[: len(data) // 2])


def test_it_refuses_formats_outside_the_list_even_when_pillow_reads_them():
    with pytest.raises(UnacceptableImage):
        process(encode(picture(50, 50), "BMP"))
    with pytest.raises(UnacceptableImage):
        process(encode(picture(50, 50), "TIFF"))


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP", "JPEG"])
def test_it_accepts_each_supported_format_and_outputs_jpeg(fmt):
    photo = process(encode(picture(300, 200), fmt))
    for variant in photo.variants:
        assert decoded(variant).format == "JPEG"


def test_it_flattens_transparency_onto_white():
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    photo = process(encode(image, "PNG"))
    assert decoded(photo.variants[0]).getpixel((50, 50)) == pytest.approx((255, 255, 255), abs=3)


def test_it_takes_the_first_frame_of_an_animated_gif():
    frames = [picture(120, 80, (200, 0, 0)), picture(120, 80, (0, 200, 0))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    photo = process(data)
    assert decoded(photo.variants[0]).size == (120, 80)


def test_it_makes_a_large_and_a_small_size():
    photo = process(jpeg_bytes(3000, 2000), widths=(1080, 480))
    large, small = photo.variants
    assert (large.width, large.height) == (1080, 720)
    assert (small.width, small.height) == (480, 320)
    assert decoded(large).size == (1080, 720)


def test_it_never_enlarges_a_small_photo():
    photo = process(jpeg_bytes(300, 200), widths=(1080, 480))
    assert [v.width for v in photo.variants] == [300, 300]


def test_it_names_files_by_the_hash_of_their_content():
    photo = process(jpeg_bytes())
    large, small = photo.variants
    assert large.storage_name != small.storage_name
    assert large.storage_name.startswith("photos/")
    assert large.storage_name.endswith(".jpg")
    assert process(jpeg_bytes()).variants[0].storage_name == large.storage_name


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_it_applies_the_exif_orientation_of_other_formats_too(fmt):
    exif = Image.Exif()
    exif[0x0112] = 6
    large = decoded(process(encode(picture(640, 480), fmt, exif=exif.tobytes())).variants[0])
    assert large.size == (480, 640)
    r, g, b = large.convert("RGB").getpixel((large.width - 20, 20))
    assert r > 200 and g < 80 and b < 80
