from django.test import TestCase, override_settings

from extagram.core.middleware import TrustedProxyMiddleware


def client_address(meta):
    seen = {}

    def view(request):
        seen.update(
            ip=request.META["REMOTE_ADDR"], proto=request.META.get("HTTP_X_FORWARDED_PROTO")
        )
        return None

    from django.test import RequestFactory

    request = RequestFactory().get("/", **meta)
    TrustedProxyMiddleware(view)(request)
    return seen


class TrustedProxyTests(TestCase):
    @override_settings(TRUSTED_PROXIES=["172.20.0.0/16"])
    def test_forwarded_headers_from_the_proxy_are_honoured(self):
        seen = client_address(
            {
                "REMOTE_ADDR": "172.20.0.5",
                "HTTP_X_REAL_IP": "203.0.113.9",
                "HTTP_X_FORWARDED_PROTO": "https",
            }
        )
        self.assertEqual(seen, {"ip": "203.0.113.9", "proto": "https"})

    @override_settings(TRUSTED_PROXIES=["172.20.0.0/16"])
    def test_forwarded_headers_from_anyone_else_are_dropped(self):
        seen = client_address(
            {
                "REMOTE_ADDR": "198.51.100.7",
                "HTTP_X_REAL_IP": "1.2.3.4",
                "HTTP_X_FORWARDED_FOR": "1.2.3.4",
                "HTTP_X_FORWARDED_PROTO": "https",
            }
        )
        self.assertEqual(seen, {"ip": "198.51.100.7", "proto": None})

    @override_settings(TRUSTED_PROXIES=[])
    def test_without_trusted_proxies_nothing_is_honoured(self):
        seen = client_address({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4"})
        self.assertEqual(seen["ip"], "127.0.0.1")

    @override_settings(
        TRUSTED_PROXIES=["127.0.0.1"],
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        ALLOWED_HOSTS=["photos.example.org"],
        USE_X_FORWARDED_HOST=True,
    )
    def test_behind_tls_django_sees_the_original_scheme_and_host(self):
        from django.http import HttpResponse
        from django.test import RequestFactory

        seen = {}

        def view(request):
            seen.update(secure=request.is_secure(), url=request.build_absolute_uri("/p/1/"))
            return HttpResponse()

        request = RequestFactory().get(
            "/",
            REMOTE_ADDR="127.0.0.1",
            HTTP_HOST="app:8000",
            HTTP_X_FORWARDED_PROTO="https",
            HTTP_X_FORWARDED_HOST="photos.example.org",
        )
        TrustedProxyMiddleware(view)(request)
        self.assertEqual(seen, {"secure": True, "url": "https://photos.example.org/p/1/"})
