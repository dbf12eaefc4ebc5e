from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from extagram.core import views as core_views
from extagram.core.media import serve_media

handler400 = core_views.bad_request
handler403 = core_views.permission_denied
handler404 = core_views.page_not_found
handler500 = core_views.server_error
handler429 = core_views.rate_limited  # not Django's: allauth's rate limits read it

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("upload/", include("extagram.uploads.urls")),
    path("accounts/", include("extagram.accounts.urls")),
    path("admin/", admin.site.urls),
    path("", include("extagram.social.urls")),
    path("", include("extagram.posts.urls")),
]

if settings.SERVE_MEDIA:
    urlpatterns.append(re_path(r"^media/(?P<path>photos/.+)$", serve_media, name="media"))
