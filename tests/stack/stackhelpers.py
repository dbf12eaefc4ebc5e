"""A small HTTP client for the stack tests: standard library only.

Keeps cookies like a browser, never follows redirects (the tests look at them), and
never raises on 4xx/5xx: every call returns a Response.
"""

import http.client
import http.cookiejar
import io
import re
import secrets
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

# Lines printed at the end of the session (conftest's pytest_terminal_summary).
REPORT = []

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    url: str

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def header(self, name, default=None):
        return self.headers.get(name, default)

    @property
    def location(self):
        return self.headers.get("Location")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    def __init__(self, base_url, timeout=30, cookies=None, cafile_data=None):
        """cafile_data: PEM text of the certificate to trust for https:// (self-signed)."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.cookies = cookies if cookies is not None else http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()]
        if cafile_data:
            context = ssl.create_default_context(cadata=cafile_data)
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self.opener = urllib.request.build_opener(*handlers)

    def url(self, path):
        return path if path.startswith("http") else self.base_url + path

    def request(self, method, path, data=None, headers=None, timeout=None):
        headers = dict(headers or {})
        if method == "POST":
            headers.setdefault("Origin", self.base_url)
            headers.setdefault("Referer", self.url(path))
        url = self.url(path)
        assert url.startswith(("http://127.0.0.1:", "https://127.0.0.1:")), url  # loopback only
        req = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with self.opener.open(req, timeout=timeout or self.timeout) as r:
                return Response(r.status, r.headers, r.read(), r.url)
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read(), e.url)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def cookie(self, name):
        return next((c.value for c in self.cookies if c.name == name), None)

    def csrf_token(self, path):
        page = self.get(path)
        assert page.status == 200, f"GET {path}: {page.status}"
        match = CSRF_INPUT.search(page.text)
        assert match, f"no CSRF token in the form at {path}"
        return match.group(1)

    def post_form(self, path, fields, token_from=None):
        fields = dict(fields)
        fields.setdefault("csrfmiddlewaretoken", self.csrf_token(token_from or path))
        body = urllib.parse.urlencode(fields).encode()
        return self.request(
            "POST", path, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )

    def post_multipart(self, path, fields, files, token_from=None):
        fields = dict(fields)
        fields.setdefault("csrfmiddlewaretoken", self.csrf_token(token_from or path))
        body, content_type = encode_multipart(fields, files)
        return self.request("POST", path, data=body, headers={"Content-Type": content_type})

    def signup(self, username, password):
        return self.post_form(
            "/accounts/signup/",
            {
                "username": username,
                "email": f"{username}@example.com",
                "password1": password,
                "password2": password,
            },
        )

    def login(self, username, password):
        return self.post_form("/accounts/login/", {"username": username, "password": password})


def encode_multipart(fields, files):
    """fields: {name: str}; files: {name: (filename, bytes, content_type)}."""
    boundary = "----extagram" + secrets.token_hex(12)
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f"--{boundary}\r\n".encode())
        out.write(f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(str(value).encode() + b"\r\n")
    for name, (filename, data, content_type) in files.items():
        out.write(f"--{boundary}\r\n".encode())
        out.write(
            f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
        )
        out.write(f"Content-Type: {content_type}\r\n\r\n".encode())
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def make_jpeg(width, height, noise=False, quality=85, seed=0):
    """A JPEG made with Pillow: a gradient, or random noise (compresses badly = big file)."""
    from PIL import Image

    if noise:
        image = Image.frombytes(
            "RGB",
            (width, height),
            secrets.token_bytes(width * height * 3)
            if seed is None
            else _seeded_bytes(width * height * 3, seed),
        )
    else:
        image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _seeded_bytes(n, seed):
    import random

    return random.Random(seed).randbytes(n)


def raw_request(port, raw, timeout=5):
    """Send raw bytes to 127.0.0.1:port; return what came back (b"" if closed silently)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
