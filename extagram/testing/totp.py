"""RFC 6238 TOTP codes (HMAC-SHA1, 30-s steps, 6 digits: what authenticator apps use),
computed independently of allauth so the tests check its codes rather than reuse them."""

import base64
import hashlib
import hmac
import struct
import time


def totp(secret_base32, step_offset=0, now=None):
    """The 6-digit code for `secret_base32` at `now` (seconds; default: the clock)."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8), casefold=True)
    counter = int((now if now is not None else time.time()) // 30) + step_offset
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"
