"""Only pixels leave the pipeline: no comment, text, EXIF, XMP, ICC or appended bytes."""

import io

import pytest
from PIL import Image, PngImagePlugin

from extagram.testing.icc import rgb_profile
from extagram.testing.images import encode, jpeg_markers, jpeg_with_gps_and_orientation, picture

from ._photos import decoded, process

SECRET = b"Home: 12 Example Street"
# What a fresh JPEG needs: SOI, JFIF APP0, quantisation and Huffman tables, the frame
# (baseline or progressive), scans, EOI. Nothing else (no COM, no APP1-APP15).
ALLOWED = {0xD8, 0xE0, 0xDB, 0xC4, 0xC0, 0xC2, 0xDA, 0xD9, 0xDD}


def assert_only_pixels(photo):
    for variant in photo.variants:
        markers = jpeg_markers(variant.data)
        assert set(markers) <= ALLOWED, [hex(m) for m in markers]
        assert markers[0] == 0xD8 and markers[-1] == 0xD9
        assert SECRET not in variant.data
        assert b"Example" not in variant.data
        image = decoded(variant)
        assert "icc_profile" not in image.info and "exif" not in image.info
        assert "comment" not in image.info


def xmp_packet():
    return (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
        b'02/22-rdf-syntax-ns#"><rdf:Description>' + SECRET + b"</rdf:Description>"
        b"</rdf:RDF></x:xmpmeta>"
    )


def exif_with_secret():
    exif = Image.Exif()
    exif[0x010E] = SECRET.decode()  # ImageDescription
    exif[0x010F] = "TestCam"
    return exif.tobytes()


def test_a_jpeg_comment_does_not_survive():
    photo = process(encode(picture(), "JPEG", comment=SECRET))
    assert_only_pixels(photo)


def test_a_gif_comment_does_not_survive_although_pillow_would_copy_it():
    photo = process(encode(picture().convert("P"), "GIF", comment=SECRET))
    assert_only_pixels(photo)


@pytest.mark.parametrize("chunk", ["tEXt", "iTXt", "zTXt"])
def test_png_text_chunks_do_not_survive(chunk):
    info = PngImagePlugin.PngInfo()
    if chunk == "tEXt":
        info.add_text("Comment", SECRET.decode())
    elif chunk == "iTXt":
        info.add_itxt("Description", SECRET.decode(), lang="en")
    else:
        info.add_text("Comment", SECRET.decode(), zip=True)
    photo = process(encode(picture(), "PNG", pnginfo=info))
    assert_only_pixels(photo)


def test_exif_and_xmp_in_a_jpeg_do_not_survive():
    photo = process(encode(picture(), "JPEG", exif=exif_with_secret(), xmp=xmp_packet()))
    assert_only_pixels(photo)


def test_exif_and_gps_in_an_oriented_jpeg_do_not_survive():
    photo = process(jpeg_with_gps_and_orientation())
    assert_only_pixels(photo)
    assert b"TestCam" not in photo.variants[0].data


def test_webp_exif_and_xmp_chunks_do_not_survive():
    photo = process(encode(picture(), "WEBP", exif=exif_with_secret(), xmp=xmp_packet()))
    assert_only_pixels(photo)


def test_png_exif_does_not_survive():
    photo = process(encode(picture(), "PNG", exif=exif_with_secret()))
    assert_only_pixels(photo)


def test_an_embedded_icc_profile_is_converted_away_not_copied():
    photo = process(encode(picture(), "JPEG", icc_profile=rgb_profile("Display P3")))
    assert_only_pixels(photo)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_bytes_appended_after_the_image_do_not_survive(fmt):
    payload = b"<?php system($_GET['cmd']); ?>" + SECRET
    photo = process(encode(picture(), fmt) + payload)
    assert_only_pixels(photo)
    for variant in photo.variants:
        assert b"<?php" not in variant.data


def test_avif_and_heic_metadata_do_not_survive():
    pytest.importorskip("pillow_heif").register_heif_opener()
    for fmt in ("AVIF", "HEIF"):
        photo = process(encode(picture(), fmt, exif=exif_with_secret(), xmp=xmp_packet()))
        assert_only_pixels(photo)


def test_the_published_files_still_open_as_plain_jpegs():
    photo = process(encode(picture(), "JPEG", comment=SECRET, exif=exif_with_secret()))
    for variant in photo.variants:
        image = Image.open(io.BytesIO(variant.data))
        assert image.format == "JPEG" and image.mode == "RGB"
