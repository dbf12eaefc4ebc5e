"""Photos in an S3-compatible bucket (EXTAGRAM_S3_*): the site writes, serves, exports
and deletes them there, against a real S3-API server process (moto_server, test
scaffolding: extagram/testing/s3server.py)."""

import io
import os
import subprocess
import sys
import time
import zipfile

from django.conf import settings
from django.core.files.storage import default_storage

from extagram.posts.models import Post, StoredFile
from extagram.testing.base import PASSWORD, BaseTestCase
from extagram.testing.images import jpeg_bytes
from extagram.testing.s3server import BucketTestMixin


class PhotoBucketTests(BucketTestMixin, BaseTestCase):
    def setUp(self):
        self.bucket = self.in_bucket()
        self.client.login(username="alice", password=PASSWORD)

    def keys(self):
        return self.server.keys(self.bucket)

    def delete(self, post, user="alice"):
        self.client.login(username=user, password=PASSWORD)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(f"/p/{post.pk}/delete/")
        self.assertEqual(response.status_code, 302)

    def test_an_upload_through_the_site_lands_in_the_bucket_and_nowhere_else(self):
        response = self.client.post("/upload/", {"photo": self.jpeg(), "caption": "Cloud"})
        post = Post.objects.get()
        self.assertRedirects(response, f"/p/{post.pk}/")
        self.assertEqual(self.keys(), sorted(post.image_names))
        self.assertFalse((settings.MEDIA_ROOT / "photos").exists())
        # the public URLs stay the site's own
        self.assertEqual(post.large_url, f"/media/{post.image_large}")
        self.assertContains(self.client.get(f"/p/{post.pk}/"), post.large_url)

    def test_the_embedded_site_serves_the_photo_from_the_bucket(self):
        post = self.make_post()
        response = self.client.get(post.large_url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "image/jpeg")
        self.assertIn("immutable", response["Cache-Control"])
        body = b"".join(response.streaming_content)
        stored = self.server.client().get_object(Bucket=self.bucket, Key=post.image_large)
        self.assertEqual(body, stored["Body"].read())
        missing = post.large_url.replace(post.image_large[-10:-4], "000000")
        self.assertEqual(self.client.get(missing).status_code, 404)

    def test_the_webp_files_are_stored_and_served_as_image_webp(self):
        post = self.make_post()
        stored = self.server.client().get_object(Bucket=self.bucket, Key=post.image_large_webp)
        self.assertEqual(stored["ContentType"], "image/webp")
        response = self.client.get(f"/media/{post.image_small_webp}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "image/webp")
        self.assertIn("immutable", response["Cache-Control"])

    def test_deleting_the_post_deletes_its_objects(self):
        post = self.make_post()
        self.assertEqual(len(self.keys()), 4)  # JPEG and WebP, 640 and 480 px
        self.assertEqual(self.keys(), sorted(post.image_names))
        self.delete(post)
        self.assertFalse(Post.objects.exists())
        self.assertEqual(self.keys(), [])
        self.assertFalse(StoredFile.objects.exists())

    def test_objects_shared_by_two_posts_stay_until_the_last_one_goes(self):
        data = jpeg_bytes(color=(10, 200, 40))
        first = self.make_post(data=data)
        second = self.make_post(author=self.stranger, data=data)
        self.assertEqual(first.image_names, second.image_names)
        self.assertEqual(self.keys(), sorted(first.image_names))
        self.delete(first)
        self.assertEqual(self.keys(), sorted(second.image_names))
        self.delete(second, user="bob")
        self.assertEqual(self.keys(), [])

    def test_the_sweep_deletes_orphan_objects_and_keeps_those_in_use(self):
        post = self.make_post()
        orphan = f"photos/ab/{'ab' * 32}.jpg"
        self.server.client().put_object(Bucket=self.bucket, Key=orphan, Body=b"left by a crash")
        time.sleep(1.1)  # S3 modification times have one-second resolution
        report = StoredFile.objects.sweep(grace=0)
        self.assertEqual(report["deleted"], [orphan])
        self.assertEqual(self.keys(), sorted(post.image_names))

    def test_the_data_export_reads_the_photos_from_the_bucket(self):
        post = self.make_post()
        response = self.client.post("/accounts/export/")
        self.assertEqual(response.status_code, 200)
        archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
        with default_storage.open(post.image_large) as stored:
            self.assertEqual(archive.read(f"photos/{post.pk}.jpg"), stored.read())

    def jpeg(self):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return SimpleUploadedFile("p.jpg", jpeg_bytes(800, 600), content_type="image/jpeg")


def test_the_bucket_settings_come_from_the_environment_and_secret_files(tmp_path):
    secret = tmp_path / "s3_secret"
    secret.write_text("from-a-file\n")
    env = {
        **os.environ,
        "EXTAGRAM_DATA_DIR": str(tmp_path),
        "EXTAGRAM_S3_BUCKET": "photos",
        "EXTAGRAM_S3_ENDPOINT_URL": "http://s3.internal:9000",
        "EXTAGRAM_S3_REGION": "eu-west-1",
        "EXTAGRAM_S3_ACCESS_KEY_ID": "key-id",
        "EXTAGRAM_S3_SECRET_ACCESS_KEY_FILE": str(secret),
        "EXTAGRAM_S3_ADDRESSING_STYLE": "path",
    }
    script = (
        "import django, json; django.setup();"
        "from django.core.files.storage import storages; s = storages['default'];"
        "print(json.dumps([type(s).__name__, s.bucket_name, s.endpoint_url, s.region_name,"
        " s.access_key, s.secret_key, s.addressing_style, s.url('photos/ab/x.jpg')]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "DJANGO_SETTINGS_MODULE": "extagram.settings"},
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    )
    assert out.stdout.strip() == (
        '["PhotoBucketStorage", "photos", "http://s3.internal:9000", "eu-west-1", "key-id",'
        ' "from-a-file", "path", "/media/photos/ab/x.jpg"]'
    )
