#!/usr/bin/env python
"""Container health probe: GET http://127.0.0.1:$PORT/healthz with the standard library only.

Used by the image's HEALTHCHECK (and compose). Sends a Host header the app accepts (the
first concrete entry of ALLOWED_HOSTS), so the probe keeps working whatever host names
the site is configured for. Exit 0 when the answer is 200, 1 otherwise.

    extagram-healthcheck [PATH]        # default /healthz; /readyz also checks db + cache
"""

import os
import sys
import urllib.error
import urllib.request


def probe_host():
    for host in os.environ.get("ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "/healthz"
    port = os.environ.get("EXTAGRAM_PORT_INTERNAL", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={"Host": probe_host(), "User-Agent": "extagram-healthcheck"},
    )
    try:
        with urllib.request.urlopen(
            request, timeout=float(os.environ.get("HEALTHCHECK_TIMEOUT", "2.5"))
        ) as response:
            ok = response.status == 200
    except (urllib.error.URLError, OSError) as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
