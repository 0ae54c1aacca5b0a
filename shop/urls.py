"""The project's URLs: each app's own ``urls.py`` (pages) and ``api_urls.py`` (API) included by name."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from shop.core.views import healthz

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("sellers.api_urls")),
    path("", include("backoffice.api_urls")),
    path("", include("storefront.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
    path("accounts/", include("accounts.urls")),
    path("sellers/", include("sellers.urls")),
    path("", include("storefront.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "shop.core.views.bad_request"
handler403 = "shop.core.views.permission_denied"
handler404 = "shop.core.views.not_found"
handler500 = "shop.core.views.server_error"
