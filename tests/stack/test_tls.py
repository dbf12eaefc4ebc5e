"""The stack with TLS on, scanned by a TLS scanner (sslyze, which carries its own
OpenSSL build able to speak every old protocol, so a refusal is the server's).

Expected: Mozilla's "intermediate" profile (deploy/proxy/templates/tls.inc.template):
SSL 2/3 and TLS 1.0/1.1 refused, TLS 1.2 with ECDHE + AEAD suites only (no CBC),
TLS 1.3 accepted, no session tickets, and a clean proxy start (no stapling warnings
for the self-signed certificate). Connects to 127.0.0.1 only.
"""

import re
import secrets
import socket

import pytest

from extagram_ops.throwaway import raw_request
from tests.stack.stackhelpers import REPORT

pytestmark = pytest.mark.stack

# ECDHE key exchange with an AEAD cipher: what the profile allows for TLS 1.2.
TLS12_ALLOWED = re.compile(
    r"^TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$"
)
OLD_PROTOCOLS = ("ssl_2_0", "ssl_3_0", "tls_1_0", "tls_1_1")


def scan(port):
    """sslyze's cipher-suite and session-resumption scans of 127.0.0.1:port.

    Returns {"ssl_2_0" | ... | "tls_1_3": [accepted suite names],
    "tickets": TlsResumptionSupportEnum name, "session_ids": the same for session ids,
    "session_ids_resumed": (resumptions that succeeded, resumptions tried)}.
    Raises AssertionError if a scan did not complete.
    """
    from sslyze import (
        ScanCommand,
        ScanCommandAttemptStatusEnum,
        Scanner,
        ServerNetworkLocation,
        ServerScanRequest,
        ServerScanStatusEnum,
    )

    commands = {
        "ssl_2_0": ScanCommand.SSL_2_0_CIPHER_SUITES,
        "ssl_3_0": ScanCommand.SSL_3_0_CIPHER_SUITES,
        "tls_1_0": ScanCommand.TLS_1_0_CIPHER_SUITES,
        "tls_1_1": ScanCommand.TLS_1_1_CIPHER_SUITES,
        "tls_1_2": ScanCommand.TLS_1_2_CIPHER_SUITES,
        "tls_1_3": ScanCommand.TLS_1_3_CIPHER_SUITES,
        "resumption": ScanCommand.SESSION_RESUMPTION,
    }
    location = ServerNetworkLocation(hostname="localhost", port=port, ip_address="127.0.0.1")
    scanner = Scanner()
    scanner.queue_scans(
        [ServerScanRequest(server_location=location, scan_commands=set(commands.values()))]
    )
    (result,) = list(scanner.get_results())
    assert result.scan_status == ServerScanStatusEnum.COMPLETED, result.connectivity_error_trace
    found = {}
    for key in commands:
        attempt = getattr(result.scan_result, commands[key].value)
        assert attempt.status == ScanCommandAttemptStatusEnum.COMPLETED, (key, attempt.error_trace)
        if key == "resumption":
            found["tickets"] = attempt.result.tls_ticket_resumption_result.name
            found["session_ids"] = attempt.result.session_id_resumption_result.name
            found["session_ids_resumed"] = (
                attempt.result.session_id_successful_resumptions_count,
                attempt.result.session_id_attempted_resumptions_count,
            )
        else:
            found[key] = sorted(s.cipher_suite.name for s in attempt.result.accepted_cipher_suites)
    return found


@pytest.fixture(scope="module")
def tls_on(stack):
    """The session's stack with EXTAGRAM_TLS=true for this module's tests; plain HTTP again
    after them."""
    stack.env["EXTAGRAM_TLS"] = "true"
    try:
        stack.compose("up", "-d")
        stack.wait_healthy()
        yield stack
    finally:
        stack.env["EXTAGRAM_TLS"] = "false"
        stack.compose("up", "-d")
        stack.wait_healthy()


def test_tls_follows_mozillas_intermediate_profile(tls_on):
    found = scan(int(tls_on.env["EXTAGRAM_HTTPS_PORT"]))
    REPORT.append("TLS scan (sslyze) of the proxy:")
    REPORT.extend(f"  {key}: {value}" for key, value in found.items())

    for old in OLD_PROTOCOLS:
        assert found[old] == [], f"{old} must be refused: {found[old]}"
    assert found["tls_1_2"], "TLS 1.2 must be offered"
    assert [s for s in found["tls_1_2"] if not TLS12_ALLOWED.match(s)] == []
    assert not any("CBC" in s for s in found["tls_1_2"] + found["tls_1_3"])
    assert found["tls_1_3"], "TLS 1.3 must be offered"
    assert found["tickets"] == "NOT_SUPPORTED", "session tickets must be off"
    # the session cache resumes sessions: without one, none of sslyze's 5 tries would.
    # Not every try did once, in a CI run on a loaded machine (PARTIALLY_SUPPORTED; how
    # many was not recorded then: the report now has the counts)
    resumed, tried = found["session_ids_resumed"]
    assert tried and resumed >= 1, f"the session cache resumed {resumed} of {tried}"

    logs = tls_on.compose("logs", "--no-color", "proxy").stdout
    problems = [
        line
        for line in logs.splitlines()
        if re.search(r"\[(emerg|alert|crit|error)\]|ssl_stapling", line)
    ]
    assert problems == [], problems


def test_plain_http_sent_to_the_https_port_is_redirected_to_https(tls_on):
    https_port = int(tls_on.env["EXTAGRAM_HTTPS_PORT"])
    # nginx's own answer was a bare 400 page ("The plain HTTP request was sent to HTTPS port")
    answer = raw_request(https_port, b"POST /search/?q=a HTTP/1.1\r\nHost: localhost\r\n\r\n")
    head = answer.partition(b"\r\n\r\n")[0].decode()
    assert head.startswith("HTTP/1.1 308 "), answer[:300]
    assert f"\r\nLocation: https://localhost:{https_port}/search/?q=a\r\n" in head, head
    # an unknown Host is closed, as over HTTPS
    assert raw_request(https_port, b"GET / HTTP/1.1\r\nHost: elsewhere.invalid\r\n\r\n") == b""


def test_the_http_ports_redirect_refuses_a_malformed_request_with_the_sites_page(tls_on):
    # with TLS on, plain HTTP to a site's name gets the redirect's server, which had no pages
    for request in (
        b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n",
    ):
        answer = raw_request(tls_on.port, request)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 "), (request, answer[:300])
        assert b"<h1>Bad request</h1>" in body and b"nginx" not in body, (request, body[:300])
    # TRACE: the 405 page; a photo's upload sent here: redirected, not refused for its size
    answer = raw_request(tls_on.port, b"TRACE / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 405 ") and b"<h1>Not allowed</h1>" in answer, answer[:300]
    answer = raw_request(
        tls_on.port,
        b"POST /upload/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2000000\r\n"
        b"Connection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 308 "), answer[:300]
    # and a good one is still redirected
    answer = raw_request(
        tls_on.port, b"GET /explore/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 308 "), answer[:300]


def h2_get(port, path, headers=()):
    """GET https://localhost:port/path over HTTP/2 (the h2 library, on 127.0.0.1), with
    `headers` as (name, value) fields sent as they are (a browser's cookie crumbs stay
    separate fields). Returns (status, body bytes); status None if the server ended the
    connection instead (its error in the body)."""
    import ssl

    import h2.config
    import h2.connection
    import h2.events

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    with context.wrap_socket(raw, server_hostname="localhost") as sock:
        connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        connection.initiate_connection()
        request = [(":method", "GET"), (":path", path), (":scheme", "https")]
        connection.send_headers(1, [*request, (":authority", "localhost"), *headers], True)
        sock.sendall(connection.data_to_send())
        status, body = None, b""
        while data := sock.recv(65536):
            for event in connection.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    status = int(dict(event.headers)[b":status"])
                elif isinstance(event, h2.events.DataReceived):
                    body += event.data
                    connection.acknowledge_received_data(event.flow_controlled_length, 1)
                elif isinstance(event, h2.events.StreamEnded):
                    return status, body
                elif isinstance(event, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                    return None, repr(event).encode()
            sock.sendall(connection.data_to_send())
    return None, b"connection closed"


def test_a_browsers_cookies_and_a_long_link_over_http2_reach_their_page(tls_on):
    https_port = int(tls_on.env["EXTAGRAM_HTTPS_PORT"])
    # Over HTTP/2 the cookies come as separate fields, which the proxy joins into one line
    # of up to 32 KB: gunicorn took 8,190 bytes and answered its own bare 431
    for cookies in (
        [("cookie", f"c{i}=" + "x" * 3000) for i in range(3)],
        [("cookie", "c=" + secrets.token_hex(4500))],
        [("cookie", f"c{i}=" + "x" * 70) for i in range(400)],
    ):
        status, body = h2_get(https_port, "/explore/", cookies)
        assert status == 200, (len(cookies), status, body[:300])
        assert b"<title>Explore" in body
    # a :path over gunicorn's largest request line (8,190 bytes; nginx takes up to 8 KB
    # encoded over HTTP/2): gunicorn answered its own bare 414
    status, body = h2_get(https_port, "/search/?q=" + "a" * 10000)
    assert status == 200 and b"<title>Search" in body, (status, body[:300])
    # over the proxy's limit: refused by it (nginx ends the connection over HTTP/2)
    status, body = h2_get(
        https_port, "/explore/", [("cookie", f"c{i}=" + "x" * 4000) for i in range(10)]
    )
    assert status in (None, 400), (status, body[:300])


def _chain_with_ocsp_responder(folder):
    """fullchain.pem (a leaf naming an OCSP responder, then its CA) and privkey.pem."""
    import subprocess

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl(
        "req",
        "-x509",
        *ec,
        "-days",
        "2",
        "-subj",
        "/CN=Test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    )
    openssl("req", *ec, "-subj", "/CN=localhost", "-keyout", "privkey.pem", "-out", "leaf.csr")
    (folder / "ext").write_text(
        "authorityInfoAccess=OCSP;URI:http://ocsp.invalid/\nsubjectAltName=DNS:localhost\n"
    )
    openssl(
        "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "ext", "-out", "leaf.pem",
    )  # fmt: skip
    (folder / "fullchain.pem").write_bytes(
        (folder / "leaf.pem").read_bytes() + (folder / "ca.pem").read_bytes()
    )
    for name in ("fullchain.pem", "privkey.pem"):
        (folder / name).chmod(0o644)  # readable by the proxy's uid 101 (a test key)
    folder.chmod(0o755)


def test_ocsp_stapling_is_on_only_for_a_supplied_chain_with_a_responder(stack, tmp_path):
    def rendered_tls(tls_dir):
        return stack.ops.compose(
            "run", "--rm", "--no-deps", "-T", "proxy",
            "sh", "-c", "nginx -t -q -e stderr && cat /tmp/extagram-nginx/tls.inc",
            env={"EXTAGRAM_TLS": "true", "EXTAGRAM_TLS_DIR": str(tls_dir)},
        ).stdout  # fmt: skip

    _chain_with_ocsp_responder(tmp_path)
    supplied = rendered_tls(tmp_path)
    assert "\nssl_stapling on;" in supplied
    assert "\nssl_stapling_verify on;" in supplied

    empty = tmp_path / "empty"
    empty.mkdir(mode=0o755)
    self_signed = rendered_tls(empty)
    assert "ssl_stapling on" not in self_signed
    assert "ssl_certificate /tmp/extagram-nginx/tls/fullchain.pem;" in self_signed
