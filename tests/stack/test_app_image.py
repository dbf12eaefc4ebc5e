"""The app image still does everything after its Dockerfile trims what the libraries ship
for other uses (deploy/app/Dockerfile; docs/performance.md, "The app image").

The image (the one the session's stack was built with) is run on its own with
`docker run`: it turns a HEIC and an AVIF into JPEG and WebP variants with the right
pixels (pillow-heif built against Debian's libheif with its decoder plugins only, and
Pillow's AVIF plugin); it stores, reads and deletes a photo in an S3 bucket (moto on a
bridge network this test creates) through django-storages, so botocore kept the S3
model; it has Django's, its admin's and allauth's translations for Spanish and Catalan,
and no other language's. Through the running stack, the admin's log-in page answers in
both languages.

The image is at most 200 MB (the budget's goal, issue 13), two layers copied from trimmed
stages (the system with the venv, then the app's own files): no pip, apt, perl or debconf
left, the user, working directory and environment the runtime stage had, CA certificates
where Python's ssl module looks, and bytecode for every module the app's processes
import (the root is read-only: anything without would be compiled in memory at every
start).
"""

import base64
import json
import os
import secrets

import pytest

from extagram.testing.images import encode, picture
from extagram.testing.s3server import ACCESS_KEY, REGION, SECRET_KEY, S3Server
from extagram_ops.docker import docker
from extagram_ops.throwaway import free_subnet
from tests.stack.conftest import unavailable

pytestmark = pytest.mark.stack

# What the image needs to set Django up outside the stack (as the build's collectstatic).
DJANGO_ENV = (
    "-e",
    "EXTAGRAM_ENV=production",
    "-e",
    "EXTAGRAM_DATA_DIR=/tmp/extagram",
    "-e",
    "SECRET_KEY",
)

DECODE = """
import base64, io, json, sys
import django
django.setup()
from PIL import Image
from extagram.uploads.images import process_photo
result = {}
for name, data in json.load(sys.stdin).items():
    photo = process_photo(io.BytesIO(base64.b64decode(data)), max_pixels=50_000_000,
                          webp_widths=(1080, 480))
    result[name] = []
    for variant in photo.variants:
        with Image.open(io.BytesIO(variant.data)) as image:
            image = image.convert("RGB")
            result[name].append({
                "variant": f"{variant.format} {variant.width_class}",
                "read as": image.format or variant.format.upper(),
                "size": list(image.size),
                "top left": list(image.getpixel((2, 2))),
                "bottom right": list(image.getpixel((image.width - 3, image.height - 3))),
            })
print(json.dumps(result))
"""

S3 = """
import json, sys
from django.conf import settings
settings.configure()
from django.core.files.base import ContentFile
from storages.backends.s3 import S3Storage
cfg = json.load(sys.stdin)
storage = S3Storage(bucket_name=cfg["bucket"], endpoint_url=cfg["endpoint"],
                    region_name=cfg["region"], access_key=cfg["key"], secret_key=cfg["secret"],
                    addressing_style="path", location="imagetest")
data = cfg["data"].encode()
if cfg["action"] == "save":
    name = storage.save("photos/ab/a-photo.jpg", ContentFile(data))
    with storage.open(name) as stored:
        print(json.dumps({"name": name, "read back": stored.read() == data,
                          "exists": storage.exists(name), "size": storage.size(name)}))
else:
    storage.delete(cfg["name"])
    print(json.dumps({"exists": storage.exists(cfg["name"])}))
"""

TRANSLATIONS = """
import json
import django
django.setup()
from pathlib import Path
from django.utils import translation
import allauth
strings = {
    "django": "This field is required.",
    "admin": "Django site admin",
    "auth": "username",
    "allauth": "Remember Me",
    "overrides": "Forgot your password?",  # allauth's, in extagram/locale_overrides/
}
result = {}
for lang in ("es", "ca"):
    with translation.override(lang):
        result[lang] = {source: translation.gettext(text) for source, text in strings.items()}
catalogues = [p for package in (django, allauth)
              for p in Path(package.__file__).parent.rglob("LC_MESSAGES/*.mo")]
result["locales"] = sorted({p.parent.parent.name for p in catalogues})
result["po files"] = len(list(Path(django.__file__).parent.rglob("*.po")))
print(json.dumps(result))
"""


TRIMMED = """
import importlib.util, json, locale, os, shutil, ssl, struct, subprocess, sys
import extagram.wsgi
from django.urls import get_resolver
get_resolver().url_patterns
import extagram.uploads.images, gunicorn.workers.gthread

def bytecode(source):
    # a timestamp .pyc Python would use: its header names the source's mtime and size
    try:
        with open(importlib.util.cache_from_source(source), "rb") as f:
            header = f.read(16)
    except OSError:
        return "missing"
    flags, mtime, size = struct.unpack("<3I", header[4:16])
    stat = os.stat(source)
    fresh = (flags == 0 and mtime == int(stat.st_mtime) & 0xFFFFFFFF
             and size == stat.st_size & 0xFFFFFFFF)
    return "ok" if flags or fresh else "stale"

sources = sorted({m.__file__ for m in list(sys.modules.values())
                  if (getattr(m, "__file__", None) or "").endswith(".py")})
states = {}
for source in sources:
    states.setdefault(bytecode(source), []).append(source)
packages = subprocess.run(["dpkg-query", "-W", "-f", "${Package} "], capture_output=True,
                          text=True, check=True).stdout.split()
print(json.dumps({
    "commands": {c: shutil.which(c) for c in ("apt-get", "apt", "perl", "pip", "pip3",
                                               "python", "gunicorn", "bash", "dpkg")},
    "pip": importlib.util.find_spec("pip") is not None,
    "packages": packages,
    "ca certificates": ssl.create_default_context().cert_store_stats()["x509_ca"],
    "encoding": locale.getpreferredencoding(),
    "codecs": ["ñandú".encode("latin-1").decode("latin-1"), "€".encode("cp1252").hex(),
               "日本".encode("shift_jis").hex()],
    "modules": len(sources),
    "bytecode": {state: files[:5] if state != "ok" else len(files)
                 for state, files in states.items()},
    "uid": os.getuid(),
}))
"""


def run_in_image(image, script, stdin, *args):
    """`docker run --rm -i --read-only IMAGE python -c script` with stdin (text), as the
    stack runs it (read-only root, a tmpfs on /tmp); its JSON answer."""
    env = {**os.environ, "SECRET_KEY": secrets.token_urlsafe(48)}
    result = docker(
        "run", "--rm", "-i", "--read-only", "--tmpfs", "/tmp", *DJANGO_ENV, *args, image,
        "python", "-c", script,
        input=stdin, env=env, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def close(rgb, expected, tolerance=24):
    return all(abs(a - b) <= tolerance for a, b in zip(rgb, expected, strict=True))


def test_the_image_turns_a_heic_and_an_avif_into_jpeg_and_webp(stack):
    from extagram.uploads.images import register_heif

    register_heif()  # this machine's pillow-heif has the encoder the image leaves out
    photo = picture(1600, 1200)  # red top-left quarter on blue (40, 120, 200)
    files = {
        "photo.heic": encode(photo, "HEIF", quality=90),
        "photo.avif": encode(photo, "AVIF", quality=90),
    }
    stdin = json.dumps({name: base64.b64encode(data).decode() for name, data in files.items()})

    result = run_in_image(stack.image("app"), DECODE, stdin, "--network", "none")

    for name in files:
        variants = {v["variant"]: v for v in result[name]}
        assert set(variants) == {"jpeg large", "jpeg small", "webp large", "webp small"}, name
        for key, variant in variants.items():
            fmt, width_class = key.split()
            assert variant["read as"] == fmt.upper(), (name, variant)
            width = 1080 if width_class == "large" else 480
            assert variant["size"] == [width, width * 3 // 4], (name, variant)
            assert close(variant["top left"], (255, 0, 0)), (name, variant)
            assert close(variant["bottom right"], (40, 120, 200)), (name, variant)


def test_the_image_stores_reads_and_deletes_a_photo_in_an_s3_bucket(stack):
    network = f"extagram-imagetest-{os.getpid()}-s3"
    subnet = free_subnet()
    created = docker("network", "create", "--subnet", subnet, network, check=False)
    if created.returncode != 0:
        unavailable(f"cannot create the bridge for the S3 server: {created.stderr.strip()}")
    server = None
    try:
        ipam = json.loads(docker("network", "inspect", network).stdout)[0]["IPAM"]["Config"][0]
        host = ipam.get("Gateway") or subnet.rsplit(".", 1)[0] + ".1"
        try:
            server = S3Server(host=host).start()
        except (RuntimeError, OSError) as error:
            unavailable(f"moto_server on {host}: {error}")
        bucket = server.new_bucket()
        cfg = {
            "bucket": bucket,
            "endpoint": server.endpoint_url,
            "region": REGION,
            "key": ACCESS_KEY,
            "secret": SECRET_KEY,
            "data": "not really a JPEG, " + secrets.token_hex(16),
        }
        image = stack.image("app")

        saved = run_in_image(image, S3, json.dumps({**cfg, "action": "save"}), "--network", network)
        assert saved["read back"] and saved["exists"], saved
        assert saved["size"] == len(cfg["data"])
        key = f"imagetest/{saved['name']}"
        body = server.client().get_object(Bucket=bucket, Key=key)["Body"].read()
        assert body == cfg["data"].encode()

        gone = run_in_image(
            image, S3, json.dumps({**cfg, "action": "delete", "name": saved["name"]}),
            "--network", network,
        )  # fmt: skip
        assert gone == {"exists": False}
        listed = server.client().list_objects_v2(Bucket=bucket, Prefix="imagetest/")
        assert listed.get("KeyCount", 0) == 0
    finally:
        if server is not None:
            server.stop()
        docker("network", "rm", network, check=False)


def test_the_image_speaks_spanish_and_catalan_and_no_other_language(stack):
    result = run_in_image(stack.image("app"), TRANSLATIONS, "", "--network", "none")

    assert result["es"] == {
        "django": "Este campo es obligatorio.",
        "admin": "Sitio de administración de Django",
        "auth": "nombre de usuario",
        "allauth": "Recordarme",
        "overrides": "¿Has olvidado tu contraseña?",
    }
    assert result["ca"] == {
        "django": "Aquest camp és obligatori.",
        "admin": "Lloc administratiu de Django",
        "auth": "nom d'usuari",
        "allauth": "Recorda'm",
        "overrides": "Has oblidat la contrasenya?",
    }
    assert result["locales"] and all(
        lang.split("_")[0] in ("en", "es", "ca") for lang in result["locales"]
    ), result["locales"]
    assert result["po files"] == 0


def test_the_admin_answers_in_spanish_and_catalan_after_the_sites_log_in(stack):
    # the admin's log-in is the site's (two-factor, rate limits): /admin/login/ sends there
    client = stack.client()
    login = client.get("/admin/login/")
    assert login.status == 302 and login.header("Location").startswith("/accounts/login/")
    name, password = "adm" + secrets.token_hex(3), "Correct-Horse-" + secrets.token_hex(6)
    assert client.signup(name, password).status == 302
    staff = "from django.contrib.auth import get_user_model as m; "
    staff += f"m().objects.filter(username={name!r}).update(is_staff=True)"
    stack.compose(
        "run", "--rm", "--no-deps", "-T", "app", "python", "manage.py", "shell", "-c", staff
    )
    # the site's header from our catalogs; Django's admin catalog by its skip link (its
    # Catalan catalog translates none of the page's strings that ours does not)
    for lang, texts in (
        ("es", ("Administración de Extagram", "Saltar al contenido principal")),
        ("ca", ("Administració d&#x27;Extagram",)),
    ):
        page = client.get("/admin/", headers={"Accept-Language": lang})
        assert page.status == 200, (lang, page.status)
        assert f'<html lang="{lang}"' in page.text
        for text in texts:
            assert text in page.text, (lang, text)


def test_the_image_is_at_most_200_mb_in_two_layers_the_apps_own_files_last(stack):
    image = stack.image("app")
    size_mb = json.loads(docker("image", "inspect", image).stdout)[0]["Size"] / 1e6
    assert size_mb <= 200, f"the app image is {size_mb:.1f} MB"  # as `docker image ls`
    history = docker("history", "--human=false", "--format", "{{.Size}}", image).stdout
    layers = [int(size) / 1e6 for size in history.split() if int(size) > 0]  # newest first
    assert len(layers) == 2, layers
    apps_own, system_and_venv = layers
    assert apps_own < 20 < system_and_venv, layers


def test_the_image_runs_as_the_runtime_stage_did(stack):
    config = json.loads(docker("image", "inspect", stack.image("app")).stdout)[0]["Config"]
    env = dict(item.split("=", 1) for item in config["Env"])

    assert config["User"] == "10001:10001"
    assert config["WorkingDir"] == "/app"
    assert config["Entrypoint"] == ["/usr/local/bin/extagram-entrypoint"]
    assert config["Healthcheck"]["Test"] == [
        "CMD",
        "/usr/local/bin/extagram-healthcheck",
        "/healthz",
    ]
    assert env["PATH"].startswith("/opt/venv/bin:")
    assert env["DJANGO_SETTINGS_MODULE"] == "extagram.settings"
    assert env["MALLOC_MMAP_THRESHOLD_"] == "131072"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["LANG"] == "C.UTF-8"
    assert not [name for name in env if name.startswith("PIP_")]


def test_the_image_has_no_installers_and_bytecode_for_all_the_app_imports(stack):
    result = run_in_image(stack.image("app"), TRIMMED, "", "--network", "none")

    commands = result["commands"]
    assert [c for c in ("apt-get", "apt", "perl", "pip", "pip3") if commands[c]] == []
    assert commands["python"] and commands["gunicorn"] and commands["bash"]
    assert not result["pip"]
    gone = {"apt", "perl-base", "debconf", "python3-pip", "python3-pip-whl"}
    assert gone & set(result["packages"]) == set()
    assert {"libc6", "ca-certificates", "openssl"} <= set(result["packages"])
    assert result["ca certificates"] > 100
    assert result["encoding"].lower() == "utf-8"
    assert result["codecs"] == ["ñandú", "80", "93fa967b"]
    assert result["uid"] == 10001
    # the venv, our source and the stdlib modules the app imports: nothing to compile
    assert result["modules"] > 500
    assert result["bytecode"] == {"ok": result["modules"]}, result["bytecode"]
