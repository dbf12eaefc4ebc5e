"""Photos in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, Garage, ...).

Used as the default storage when EXTAGRAM_S3_BUCKET is set (extagram/settings.py);
otherwise photos stay on the local filesystem under MEDIA_ROOT.
"""

from urllib.parse import urljoin

from django.conf import settings
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage


class PhotoBucketStorage(S3Storage):
    """django-storages' S3Storage whose public URLs stay the site's own `/media/<name>`.

    Browsers never see the bucket: the media tier (or, in the embedded mode,
    extagram.core.media.serve_media) answers `/media/...` from it, so the pages, the
    cache headers and the CSP are the same whatever the storage. Everything else
    (save, open, exists, delete, listdir, get_modified_time) is S3Storage's, over the
    bucket's HTTP API; `file_overwrite` stays True, so `save(name)` returns `name`,
    which StoredFile.write_if_missing relies on.
    """

    def url(self, name, parameters=None, expire=None, http_method=None):
        return urljoin(settings.MEDIA_URL, filepath_to_uri(name))
