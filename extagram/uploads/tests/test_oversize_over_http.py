import http.client
from urllib.parse import urlparse

import pytest

from extagram.posts.models import Post

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_oversize_upload_gets_a_readable_413_page_over_a_real_socket(live_server, settings):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    settings.UPLOAD_MAX_MB = 1
    url = urlparse(live_server.url)
    body = b"x" * (3 * 1024 * 1024)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.request(
        "POST",
        "/upload/",
        body=body,
        headers={"Content-Type": "multipart/form-data; boundary=zzz"},
    )
    response = connection.getresponse()
    assert response.status == 413
    assert b"too large" in response.read()
    assert not Post.objects.exists()
