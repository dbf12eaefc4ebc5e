"""Test scaffolding: a local S3-API server (moto's `moto_server`) in its own process.

Not part of what users deploy: production points EXTAGRAM_S3_* at AWS S3 or a
self-hosted S3-compatible store (docs/swarm.md). moto speaks the S3 HTTP API (signed
requests, ListObjectsV2, HEAD, DELETE, ...), so the tests exercise the same boto3 calls
as production, over real HTTP on 127.0.0.1.
"""

import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3

ACCESS_KEY = "extagram-test"
SECRET_KEY = "extagram-test-secret"
REGION = "us-east-1"


def _free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class S3Server:
    """`moto_server` on a free port of `host` (127.0.0.1 by default; the stack test uses
    the host's address on a Docker bridge it created, so containers reach it); start()
    waits until it answers (at most 30 s).

    Raises RuntimeError if it does not start. stop() ends the process it started.
    """

    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.port = _free_port(host)
        self.endpoint_url = f"http://{host}:{self.port}"
        self.process = None

    def start(self):
        command = shutil.which("moto_server", path=str(Path(sys.executable).parent))
        if command is None:
            raise RuntimeError("moto_server not found: install the test extra (moto[server])")
        self.process = subprocess.Popen(
            [command, "-H", self.host, "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.process.returncode}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("moto_server did not answer within 30 s")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def client(self):
        """A boto3 S3 client for this server (to look at buckets from the test's side)."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def new_bucket(self):
        """Create an empty bucket with a unique name; return the name."""
        name = f"extagram-test-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket):
        """Every object key in `bucket`, sorted."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def storages(self, bucket, base):
        """A STORAGES setting with `base` (settings.STORAGES) whose default is this bucket."""
        return {
            **base,
            "default": {
                "BACKEND": "extagram.core.storage.PhotoBucketStorage",
                "OPTIONS": {
                    "bucket_name": bucket,
                    "endpoint_url": self.endpoint_url,
                    "region_name": REGION,
                    "access_key": ACCESS_KEY,
                    "secret_key": SECRET_KEY,
                    "addressing_style": "path",
                    "default_acl": None,
                    "querystring_auth": False,
                    "file_overwrite": True,
                },
            },
        }


class BucketTestMixin:
    """For a Django test case class whose tests use S3 buckets: one `moto_server` for the
    class (`self.server`, started before the class's test data, stopped after its last
    test), and `in_bucket()` to make the default storage a new, empty bucket of it for
    the rest of one test."""

    server: S3Server

    @classmethod
    def setUpClass(cls):
        cls.server = S3Server().start()
        cls.addClassCleanup(cls.server.stop)
        super().setUpClass()

    def in_bucket(self) -> str:
        """Point settings.STORAGES' default at a new, empty bucket until the test ends;
        return the bucket's name."""
        from django.conf import settings
        from django.test import override_settings

        bucket = self.server.new_bucket()
        overrides = override_settings(STORAGES=self.server.storages(bucket, settings.STORAGES))
        overrides.enable()
        self.addCleanup(overrides.disable)
        return bucket
