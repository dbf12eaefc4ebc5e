"""The upload service sweeps, by itself, photo files that a crash left unused."""

import time

import pytest

from extagram.testing.images import jpeg_bytes

pytestmark = pytest.mark.stack

ORPHAN = "photos/ab/" + "ab" * 32 + ".jpg"


def media_exists(stack, name):
    listing = stack.exec("upload", "sh", "-c", f"test -e /data/media/{name} && echo yes || true")
    return listing.strip() == "yes"


def test_the_upload_service_sweeps_a_file_a_killed_upload_left_behind(stack):
    client = stack.client()
    assert client.signup("sweeper", "a-long-and-unusual-pass").status in (200, 302)
    response = client.post_multipart(
        "/upload/", {"caption": "kept"}, {"photo": ("p.jpg", jpeg_bytes(), "image/jpeg")}
    )
    assert response.status == 302, f"upload: {response.status} {response.text[:400]}"
    kept = stack.exec(
        "upload", "sh", "-c", "find /data/media/photos -type f | sed 's,/data/media/,,'"
    ).split()
    assert len(kept) >= 4  # its JPEGs and WebPs, 640 and 480 px
    assert sum(name.endswith(".webp") for name in kept) >= 2

    # A file with no post and no row, written two hours ago: what an upload killed between
    # writing its file and committing its post leaves (the default grace is an hour).
    two_hours_ago = int(time.time()) - 7200
    stack.exec(
        "upload",
        "sh",
        "-c",
        f"mkdir -p /data/media/photos/ab && echo x > /data/media/{ORPHAN}"
        f" && touch -d @{two_hours_ago} /data/media/{ORPHAN}",
    )
    assert media_exists(stack, ORPHAN)
    deadline = time.monotonic() + 60
    while media_exists(stack, ORPHAN) and time.monotonic() < deadline:
        time.sleep(1)
    assert not media_exists(stack, ORPHAN), "no sweep removed the orphan within 60 s"
    assert all(media_exists(stack, name) for name in kept)
    logs = stack.compose("logs", "--no-color", "upload").stdout
    assert "media sweep:" in logs
