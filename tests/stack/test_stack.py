"""The compose stack, driven only through the proxy's published port, as a user would.

Builds the images, starts `compose.yaml` as its own project, waits until every service
is healthy, then: sign up, upload, see the photo (served by `media`) and the CSS (served
by `static`); both app replicas answer; the upload limit (one variable) and the login
rate limit hold at the proxy; db and Redis are unreachable from the proxy and the host;
data survives `down`/`up`; an app replica that crashes (`kill -9` of its process) loses
no GET and Docker's restart policy brings it back.
Prints memory per service and image sizes at the end (never asserted).

The tests run in file order and share one stack; later ones use what earlier ones made.
"""

import json
import os
import re
import secrets
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest

from extagram.testing.images import jpeg_bytes, noisy_jpeg
from extagram_ops.docker import wait_healthy
from extagram_ops.throwaway import Client, ProcessesNotVisible, crash, raw_request
from tests.stack.stackhelpers import REPORT

pytestmark = pytest.mark.stack

STATE = {}
PHOTO_SRC = re.compile(r'<img class="photo" src="(/media/photos/[^"]+)"')
# the first (smallest) file of the post card's WebP <source>
WEBP_SRC = re.compile(r'<source type="image/webp" srcset="(/media/photos/[0-9a-f/]+\.webp) ')
CSS_HREF = re.compile(r'<link rel="stylesheet" href="(/static/[^"]+\.css)"')


def _require(key):
    if key not in STATE:
        pytest.skip(f"needs {key!r} from an earlier test that did not pass")
    return STATE[key]


@pytest.fixture(scope="module")
def user(stack):
    """A signed-up user with one client session (signs up once per run)."""
    client = stack.client()
    name = "stack" + secrets.token_hex(4)
    password = "Correct-Horse-" + secrets.token_hex(6)
    response = client.signup(name, password)
    assert response.status == 302, f"signup: {response.status} {response.text[:500]}"
    assert client.cookie("sessionid"), "signup did not log the new user in"
    STATE["user"] = (name, password)
    return client, name, password


def test_every_service_healthy_hardened_and_limited(stack):
    containers = stack.containers()
    services = {c["Config"]["Labels"]["com.docker.compose.service"] for c in containers}
    assert services >= {"proxy", "app", "upload", "media", "static", "db", "cache"}
    assert len(stack.containers("app")) == 2, "app runs as two replicas"
    for c in stack.containers(all=True):
        name, host = c["Name"].lstrip("/"), c["HostConfig"]
        assert host["Memory"] > 0, f"{name}: no memory limit"
        assert host["NanoCpus"] > 0, f"{name}: no CPU limit"
        assert "no-new-privileges:true" in (host.get("SecurityOpt") or []), name
        assert host.get("CapDrop") == ["ALL"], f"{name}: capabilities not dropped"
        assert host["ReadonlyRootfs"], f"{name}: root filesystem is writable"
        assert host["LogConfig"]["Type"] == "json-file", name
        assert host["LogConfig"]["Config"].get("max-size"), f"{name}: logs not rotated"
        service = c["Config"]["Labels"]["com.docker.compose.service"]
        published = {p: b for p, b in (host.get("PortBindings") or {}).items() if b}
        if service == "proxy":
            assert all(b[0]["HostIp"] == "127.0.0.1" for b in published.values()), published
        else:
            assert not published, f"{name} publishes {published}"
        # secrets come from files, never from the environment
        env = " ".join(c["Config"]["Env"])
        assert "SECRET_KEY=" not in env.replace("SECRET_KEY_FILE=", "")
        assert "PASSWORD=" not in env.replace("PASSWORD_FILE=", "")
    total = sum(c["HostConfig"]["Memory"] for c in containers) / 2**20
    assert total < 1000, f"memory limits of the running services add up to {total:.0f} MiB"


def test_a_clean_start_logs_no_error_in_the_app_tier(stack):
    """gunicorn's control socket is off in the containers (its default place, in the
    home folder, is on the read-only root filesystem: an ERROR at every start)."""
    logs = stack.compose("logs", "--no-color", "app", "upload", "migrate").stdout
    assert "Booting worker" in logs
    errors = [line for line in logs.splitlines() if "[ERROR]" in line or "Traceback" in line]
    assert not errors, "\n".join(errors[:10])


def test_secrets_are_generated_and_never_exposed(stack):
    """Unique random secrets from files: not in any container's or image's metadata,
    not in any image layer's history, not in any log."""
    values = {}
    for name in ("secret_key", "db_password"):
        value = stack.compose("exec", "-T", "app", "cat", f"/run/secrets/{name}").stdout.strip()
        assert len(value) >= 32, f"{name} is too short"
        values[name] = value
    assert values["secret_key"] != values["db_password"]
    # db_root_password is readable by the database user only
    denied = stack.compose("exec", "-T", "app", "cat", "/run/secrets/db_root_password", check=False)
    assert denied.returncode != 0, "the app can read the database root password"

    ids = [c["Id"] for c in stack.containers(all=True)]
    images = sorted({c["Config"]["Image"] for c in stack.containers(all=True)})
    exposed = (
        stack.docker("inspect", *ids).stdout + stack.docker("image", "inspect", *images).stdout
    )
    for image in images:
        exposed += stack.docker("history", "--no-trunc", image).stdout
    exposed += stack.compose("logs", "--no-color").stdout
    for name, value in values.items():
        assert value not in exposed, f"{name} is visible in docker inspect/history/logs"


def test_sign_up_upload_and_see_it_in_the_feed(stack, user):
    client, name, _ = user
    form = client.get("/upload/")
    assert form.status == 200
    assert form.header("X-Served-By"), "the upload form comes from the app image"
    photo = jpeg_bytes(1200, 900)
    response = client.post_multipart(
        "/upload/",
        {"caption": "hello from the stack test", "alt_text": "a grey gradient"},
        {"photo": ("gradient.jpg", photo, "image/jpeg")},
    )
    assert response.status == 302, f"upload: {response.status} {response.text[:800]}"
    post_url = response.location
    assert re.search(r"/p/\d+/$", post_url), post_url
    STATE["post_url"] = post_url

    feed = client.get("/")
    assert feed.status == 200
    assert "hello from the stack test" in feed.text
    match = PHOTO_SRC.search(feed.text)
    assert match, "no photo in the feed"
    STATE["photo_url"] = match.group(1)
    webp = WEBP_SRC.search(feed.text)
    assert webp, "no WebP <source> in the feed"
    STATE["webp_url"] = webp.group(1)
    assert client.get(post_url).status == 200


def test_photo_is_served_by_media_with_immutable_caching(stack):
    photo_url = _require("photo_url")
    response = stack.client().get(photo_url)
    assert response.status == 200
    assert response.header("X-Extagram-Tier") == "media"
    assert response.header("X-Served-By") is None, "the app must not serve media"
    assert response.header("Content-Type") == "image/jpeg"
    # once: the media tier sends it, the proxy does not add a second copy
    assert response.headers.get_all("X-Content-Type-Options") == ["nosniff"]
    cache_control = response.header("Cache-Control", "")
    assert "immutable" in cache_control and "max-age=31536000" in cache_control
    assert response.body[:3] == b"\xff\xd8\xff"
    # read-only: nothing but GET/HEAD
    assert stack.client().request("POST", photo_url, data=b"x").status in (403, 405)
    assert stack.client().get("/media/photos/../../etc/passwd").status in (400, 404)


def test_the_webp_is_served_by_media_as_image_webp_with_immutable_caching(stack):
    webp_url = _require("webp_url")
    for attempt in ("first", "second"):  # the media tier's answer, then the edge cache's
        response = stack.client().get(webp_url)
        assert response.status == 200, attempt
        assert response.header("X-Extagram-Tier") == "media"
        assert response.header("Content-Type") == "image/webp"
        assert response.headers.get_all("X-Content-Type-Options") == ["nosniff"]
        cache_control = response.header("Cache-Control", "")
        assert "immutable" in cache_control and "max-age=31536000" in cache_control
        assert response.body[:4] == b"RIFF" and response.body[8:12] == b"WEBP"
    assert response.header("X-Cache") == "HIT"


def test_css_is_served_by_static_precompressed_and_immutable(stack):
    feed = stack.client().get("/")
    match = CSS_HREF.search(feed.text)
    assert match, "no stylesheet link in the feed"
    css_url = match.group(1)
    response = stack.client().get(css_url, headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.header("X-Extagram-Tier") == "static"
    assert response.header("X-Served-By") is None
    assert response.header("Content-Type", "").startswith("text/css")
    assert response.header("Content-Encoding") == "gzip"
    assert "immutable" in response.header("Cache-Control", "")
    assert response.headers.get_all("X-Content-Type-Options") == ["nosniff"]


def test_a_file_the_static_tier_cannot_give_is_served_by_the_app(stack):
    # the static tier runs another version than the page's app replica while a deploy
    # rolls them one after the other, and is rescheduled when its node is lost: its pages
    # lost their style sheet (a helper's operator trial on a swarm)
    manifest = json.loads(stack.client().get("/static/staticfiles.json").text)["paths"]
    # a file no other test asks for, so not in the proxy's edge cache
    name = sorted(key for key in manifest if key.startswith("admin/js/"))[-1]
    url = "/static/" + manifest[name]
    stack.compose("stop", "static")
    try:
        response = stack.client().get(url)
        missing = stack.client().get("/static/extagram/none.0123456789ab.css")
    finally:
        stack.compose("start", "static")
        stack.wait_healthy()
    assert response.status == 200, (response.status, response.text[:300])
    assert response.header("X-Cache") == "FALLBACK"
    assert response.header("Content-Type", "").startswith("text/javascript")
    assert "immutable" in response.header("Cache-Control", "")
    # a file nobody has: the proxy's page, once every replica was asked
    assert missing.status == 404
    assert "<h1>Page not found</h1>" in missing.text


def test_favicon_ico_leads_to_the_icon_served_by_static(stack):
    redirect = stack.client().get("/favicon.ico")
    assert redirect.status == 302
    location = urlsplit(redirect.header("Location")).path
    assert re.fullmatch(r"/static/extagram/favicon\.\w+\.ico", location), location
    icon = stack.client().get(location)
    assert icon.status == 200
    assert icon.header("X-Extagram-Tier") == "static"
    assert icon.header("Content-Type") in ("image/x-icon", "image/vnd.microsoft.icon")
    assert icon.body[:4] == b"\x00\x00\x01\x00"  # an ICO's header
    assert "immutable" in icon.header("Cache-Control", "")


def test_requests_are_balanced_over_both_app_replicas(stack, user):
    client = user[0]  # signed in: responses are personal, never from a cache
    replicas = {c["Config"]["Hostname"] for c in stack.containers("app")}
    seen = {}
    for _ in range(60):
        response = client.get("/")
        assert response.status == 200
        served_by = response.header("X-Served-By")
        seen[served_by] = seen.get(served_by, 0) + 1
    assert set(seen) == replicas, f"answered by {seen}, replicas are {replicas}"


def test_security_headers_and_forwarding(stack):
    client = stack.client()
    response = client.get("/")
    csp = response.header("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.header("X-Frame-Options") == "DENY"
    assert response.header("X-Content-Type-Options") == "nosniff"
    assert response.header("Referrer-Policy")
    assert response.header("Strict-Transport-Security") is None, "HSTS only with TLS"
    assert re.fullmatch(r"[0-9a-f]{32}", response.header("X-Request-ID", ""))
    assert response.header("Content-Encoding") is None  # not asked for
    gz = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert gz.header("Content-Encoding") == "gzip", "HTML is gzipped by the proxy"
    # a client cannot smuggle its own forwarded headers to the app
    spoofed = client.get("/", headers={"X-Forwarded-Host": "evil.example"})
    assert spoofed.status == 200, "X-Forwarded-Host from the client must be replaced"
    # the app's health endpoints answer through the proxy
    assert client.get("/readyz").status == 200


def test_signed_out_pages_are_microcached_signed_in_never(stack, user):
    anonymous = stack.client()
    first, second = anonymous.get("/"), anonymous.get("/")
    assert second.header("X-Cache") in ("HIT", "STALE", "UPDATING"), (
        first.header("X-Cache"),
        second.header("X-Cache"),
    )
    signed_in = user[0].get("/")
    assert signed_in.header("X-Cache") == "BYPASS"
    assert f">{user[1]}<" in signed_in.text


def test_a_quiet_signed_out_page_is_never_served_old(stack):
    """A microcached page nobody asked for in 10 s is fetched again, not served stale
    (deploy/proxy/templates/10-http.conf.template, `inactive`)."""
    anonymous = stack.client()
    path = f"/explore/?quiet={time.time_ns()}"
    assert anonymous.get(path).header("X-Cache") == "MISS"
    time.sleep(13)
    again = anonymous.get(path)
    assert again.header("X-Cache") == "MISS", again.header("X-Cache")


def test_a_deleted_posts_microcached_page_goes_though_visitors_keep_asking(stack, user):
    # a background update's 404 was not stored, so the stale 200 stayed for as long as
    # a visitor asked within every 10 s (a newcomer trial: 40 s, still served)
    client = user[0]
    response = client.post_multipart(
        "/upload/",
        {"caption": "going soon"},
        {"photo": ("p.jpg", noisy_jpeg(200, 150, seed=time.time_ns() % 2**32), "image/jpeg")},
    )
    assert response.status == 302, f"upload: {response.status} {response.text[:300]}"
    path = urlsplit(response.location).path
    anonymous = stack.client()
    assert anonymous.get(path).status == 200
    assert anonymous.get(path).header("X-Cache") in ("HIT", "STALE", "UPDATING")
    pk = re.search(r"/p/(\d+)/", path).group(1)
    deleted = client.post_form(f"/p/{pk}/delete/", {}, token_from=f"/p/{pk}/delete/")
    assert deleted.status == 302, f"delete: {deleted.status}"
    seen = []
    for _ in range(30):  # every 0.5 s: the page is never quiet for 10 s
        seen.append(anonymous.get(path).status)
        if seen[-2:] == [404, 404]:
            break
        time.sleep(0.5)
    assert seen[-2:] == [404, 404], seen


def test_unknown_host_is_refused(stack):
    # the default server's error pages (for requests refused before their Host is read)
    # are no answer to an unknown Host either
    for path in ("/", "/__extagram/errors/404.html"):
        reply = raw_request(
            stack.port,
            f"GET {path} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n".encode(),
        )
        assert reply == b"", f"unknown Host got an answer at {path}: {reply[:200]!r}"
    ok = raw_request(
        stack.port,
        f"GET /healthz HTTP/1.1\r\nHost: localhost:{stack.port}\r\n"
        "Connection: close\r\n\r\n".encode(),
    )
    assert ok.startswith(b"HTTP/1.1 200"), ok[:200]


def test_upload_limit_is_one_variable_enforced_at_the_proxy(stack, user):
    client = user[0]
    limit = stack.upload_max_mb
    form = client.get("/upload/")
    assert f"{limit} MB" in form.text, "the app shows the limit from EXTAGRAM_UPLOAD_MAX_MB"
    token = client.csrf_token("/upload/")

    too_big = noisy_jpeg(1400, 1400, seed=1, quality=98)
    assert len(too_big) > limit * 2**20, len(too_big)
    response = client.post_multipart(
        "/upload/",
        {"caption": "too big", "alt_text": "", "csrfmiddlewaretoken": token},
        {"photo": ("big.jpg", too_big, "image/jpeg")},
    )
    assert response.status == 413
    assert response.header("X-Served-By") is None, "413 must come from the proxy"
    assert f"the limit is {limit} MB" in response.text, "proxy page shows the same limit"

    # just under the limit: the proxy lets it through and the app takes it
    fits = noisy_jpeg(1300, 1300, seed=2, quality=90)
    assert 1 * 2**20 < len(fits) < limit * 2**20 - 64 * 1024, len(fits)
    response = client.post_multipart(
        "/upload/",
        {"caption": "just under the limit", "alt_text": ""},
        {"photo": ("fits.jpg", fits, "image/jpeg")},
    )
    assert response.status == 302, f"{response.status}: {response.text[:500]}"


# What each service says when it is really there (judge by the answer, not by the
# connection: some networks accept any TCP connection).
HELLO = {
    "db": ("", b"MariaDB"),
    "cache": ("PING\\r\\n", b"+PONG"),
    "app": ("GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n", b"X-Served-By"),
}


def test_db_and_cache_unreachable_from_proxy_and_host(stack):
    def from_proxy(service, target, port):
        send, _ = HELLO[service]
        result = stack.compose(
            "exec", "-T", "proxy", "extagram-probe", "talk", target, str(port), send, check=False
        )
        return result.stdout.encode("utf-8", "replace")

    # the probe itself works: the proxy does reach the app
    assert HELLO["app"][1] in from_proxy("app", "app", 8000), "probe broken: no answer from app"
    for service, port in (("db", 3306), ("cache", 6379)):
        (info,) = stack.containers(service)
        networks = info["NetworkSettings"]["Networks"]
        assert [n.rsplit("_", 1)[-1] for n in networks] == ["back"], networks
        ip = next(iter(networks.values()))["IPAddress"]
        signature = HELLO[service][1]
        # the check itself works: from inside the back network it does answer
        inside = stack.compose(
            "exec",
            "-T",
            "upload",
            "python",
            "-c",
            "import socket,sys; s=socket.create_connection((sys.argv[1],int(sys.argv[2])),2);"
            "s.sendall(sys.argv[3].encode().decode('unicode_escape').encode());"
            "s.settimeout(2); print(s.recv(200))",
            ip,
            str(port),
            HELLO[service][0],
        ).stdout
        assert signature.decode() in inside, f"{service} does not answer on the back network"
        for target in (service, ip):
            answer = from_proxy(service, target, port)
            assert signature not in answer, f"the proxy reached {service} at {target}:{port}"
        # from the host: nothing published, and the back network's address not answering
        assert not _speaks(service, ip, port), f"the host reached {service} at {ip}:{port}"
        assert not any((info["HostConfig"].get("PortBindings") or {}).values())
        assert not any((info["NetworkSettings"].get("Ports") or {}).values())
        assert stack.compose("port", service, str(port), check=False).stdout.strip() in ("", ":0")


def _speaks(service, ip, port):
    """True if ip:port answers as MariaDB (greeting) or Redis (PONG) within 2 s."""
    try:
        with socket.create_connection((ip, port), timeout=2) as s:
            s.settimeout(2)
            if service == "cache":
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
            greeting = s.recv(128)
            return len(greeting) > 5 and greeting[4] == 10  # protocol version 10
    except OSError:
        return False


def test_login_hammering_gets_429_from_the_proxy(stack):
    client = stack.client()
    token = client.csrf_token("/accounts/login/")
    statuses = []
    for _ in range(20):
        response = client.post_form(
            "/accounts/login/",
            {"username": "nobody", "password": "wrong", "csrfmiddlewaretoken": token},
        )
        statuses.append(response.status)
        if response.status == 429 and response.header("X-Served-By") is None:
            assert "Too many attempts" in response.text
            assert response.header("Retry-After")
            break
    else:
        pytest.fail(f"no 429 from the proxy after 20 failed logins: {statuses}")


def test_data_survives_down_and_up(stack):
    name, password = _require("user")
    post_url, photo_url = _require("post_url"), _require("photo_url")
    stack.compose("down")
    started = time.monotonic()
    stack.up()
    REPORT.append(
        f"warm restart (down, then up -d) to all healthy: {time.monotonic() - started:.1f}s"
    )
    client = stack.client()
    assert client.get(post_url).status == 200
    profile = client.get(f"/u/{name}/")
    assert profile.status == 200 and "/media/photos/" in profile.text
    photo = client.get(photo_url)
    assert photo.status == 200 and photo.body[:3] == b"\xff\xd8\xff"
    login = client.login(name, password)
    assert login.status == 302, f"login after restart: {login.status}"
    feed = client.get("/")
    assert "hello from the stack test" in feed.text


def _hammer_during(stack, cookies, action, settle):
    """GET / from 3 threads while action() runs; returns [(status, seconds, served_by)]."""
    results = []
    stop = threading.Event()

    def hammer():
        c = stack.client(cookies=cookies)  # signed in: personal pages, never cached
        while not stop.is_set():
            started = time.monotonic()
            try:
                r = c.get("/", timeout=15)
                results.append((r.status, time.monotonic() - started, r.header("X-Served-By")))
            except Exception as error:  # a truncated body counts as a failure too
                results.append((repr(error), time.monotonic() - started, None))
            time.sleep(0.02)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(2)
        outcome = action()
        time.sleep(settle)
    finally:
        stop.set()
        for t in threads:
            t.join()
    return results, outcome


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="needs root to kill a container's process",
)
def test_crashed_app_replica_is_restarted_by_the_restart_policy(stack):
    """A process that dies on its own (here: SIGKILL from the host, like the OOM killer)
    is restarted by `restart: unless-stopped`, and no GET fails meanwhile. (`docker kill`
    is different: Docker leaves a container stopped through its API down, by design.)"""
    name, password = _require("user")
    client = stack.client()
    assert client.login(name, password).status == 302
    victim = stack.ops.running("app")[-1]

    def crash_and_wait():
        try:
            crash(stack.ops, victim)
        except ProcessesNotVisible as error:
            pytest.skip(str(error))
        return wait_healthy(stack.ops, [victim], timeout=90, restarted=True, say=None)

    results, back_after = _hammer_during(stack, client.cookies, crash_and_wait, settle=1)
    failures = [r for r in results if r[0] != 200]
    REPORT.append(
        f"crash (kill -9) of an app replica: {len(results)} GETs, {len(failures)} failed, "
        f"restarted and healthy after {back_after:.1f}s"
    )
    assert not failures, f"{len(failures)} of {len(results)} GETs failed: {failures[:5]}"
    assert stack.inspect(victim.id)["RestartCount"] > victim.restart_count


def test_tls_redirects_and_django_sees_https_and_the_host(stack):
    """EXTAGRAM_TLS=true with no certificate supplied: a self-signed one for the host
    names; HTTP redirects to HTTPS; login works over HTTPS (CSRF origin = the scheme and
    host the client used, as forwarded by the proxy); HSTS and Secure cookies."""
    https_port = int(stack.env["EXTAGRAM_HTTPS_PORT"])
    stack.env["EXTAGRAM_TLS"] = "true"
    try:
        stack.compose("up", "-d")
        stack.wait_healthy()
        redirect = stack.client().get("/u/nobody/?x=1")
        assert redirect.status == 308
        assert redirect.location == f"https://127.0.0.1:{https_port}/u/nobody/?x=1"

        cert = stack.compose(
            "exec", "-T", "proxy", "cat", "/tmp/extagram-nginx/tls/fullchain.pem"
        ).stdout
        client = Client(f"https://127.0.0.1:{https_port}", cafile_data=cert)
        page = client.get("/accounts/login/")
        assert page.status == 200, page.status
        assert page.header("Strict-Transport-Security", "").startswith("max-age=")
        name, password = _require("user")
        login = client.login(name, password)
        assert login.status == 302, f"login over https: {login.status} {login.text[:300]}"
        assert login.location in ("/", f"https://127.0.0.1:{https_port}/")
        assert all(c.secure for c in client.cookies if c.name in ("sessionid", "csrftoken"))
        assert f">{name}<" in client.get("/").text
    finally:
        # back to plain HTTP for the tests after this one (whatever order they run in)
        stack.env["EXTAGRAM_TLS"] = "false"
        stack.compose("up", "-d")
        stack.wait_healthy()
