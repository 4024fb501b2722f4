from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from parley import __version__
from parley.health import healthz, livez, readyz
from parley.support.embed import widget_js
from parley.web.status import status_page

# The admin has no password form of its own: it sends people to the login page, which
# applies the failed-login limits per account and per IP, locks and the confirmed
# address (parley/accounts/signin.py); only staff get past it into the admin.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
# Which version runs, on every admin page (also in /readyz).
admin.site.site_header = f"Parley {__version__} administration"
admin.site.site_title = "Parley administration"

urlpatterns = [
    # Also answered before the rest of the middleware (parley/common/probes.py).
    path("livez", livez, name="livez"),
    path("readyz", readyz, name="readyz"),
    path("healthz", healthz, name="healthz"),
    # Staff: every server process alive, as it last reported (parley/web/status.py).
    path("admin/status/", status_page, name="admin-status"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up code as a script of its own
    # (/api/docs/?script=) rather than inline: the Content-Security-Policy allows no
    # inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    path("api/v1/", include("parley.api.urls")),
    # The embed tag's loader, at an address that never changes (parley/support/embed.py).
    path("widget.js", widget_js, name="widget-js"),
    path("widget/", include("parley.support.urls")),
    path("accounts/", include("parley.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    # allauth's JSON login with "remember me" (parley/accounts/headless.py), then the rest.
    path("_allauth/", include("parley.accounts.headless")),
    path("_allauth/", include("allauth.headless.urls")),
    path("", include("parley.web.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static
    from django.http import HttpResponseNotFound
    from django.urls import re_path

    def not_found(request, *args, **kwargs):  # type: ignore[no-untyped-def]
        return HttpResponseNotFound()

    urlpatterns += [
        # Attachments live under MEDIA_ROOT/attachments by default: never served from
        # there, only through the permission check of /api/v1/files/ (docs/files.md).
        re_path(rf"^{settings.MEDIA_URL.lstrip('/')}attachments/", not_found),
        *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
    ]
