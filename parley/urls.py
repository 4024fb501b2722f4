from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from parley.health import healthz

# The admin has no password form of its own: it sends people to the login page, which
# applies the failed-login limits per account and per IP, locks and the confirmed
# address (parley/accounts/signin.py); only staff get past it into the admin.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
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

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
