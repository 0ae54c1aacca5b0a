"""The project's URLs: each app's own ``urls.py`` (pages) and ``api_urls.py`` (API) included by name."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from sellers.admin_site import seller_admin_site
from shop.core.views import healthz, media

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("sellers.api_urls")),
    path("", include("backoffice.api_urls")),
    path("", include("storefront.api_urls")),
    path("", include("search.api_urls")),
    path("", include("cart.api_urls")),
    path("", include("orders.api_urls")),
    path("", include("reviews.api_urls")),
    path("", include("payments.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # the split view serves its start-up script as a file (?script): the CSP allows no inline script
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # The storefront's pages first: they take most requests, and URLs resolve in order (a product page
    # resolved after every other app's patterns spent ~100 µs trying them). Its paths start with c/,
    # p/, s/, help/, sell/ or are the home page: no other app's URL starts so.
    path("", include("storefront.urls")),
    path("admin/", admin.site.urls),
    path("seller/", seller_admin_site.urls),
    path("api/v1/", include((api_v1, "api"))),
    path("accounts/", include("accounts.urls")),
    path("sellers/", include("sellers.urls")),
    path("media/<path:path>", media, name="media"),
    path("search/", include("search.urls")),
    path("cart/", include("cart.urls")),
    path("", include("orders.urls")),  # /checkout/... and /orders/...
    path("reviews/", include("reviews.urls")),
]

if settings.BENCH_VIEWS:
    from django.http import HttpResponse

    # The ceiling of a server set-up for bench/pages.py: the full middleware stack, no database.
    urlpatterns.insert(0, path("bench/bare/", lambda request: HttpResponse("ok"), name="bench-bare"))

handler400 = "shop.core.views.bad_request"
handler403 = "shop.core.views.permission_denied"
handler404 = "shop.core.views.not_found"
handler500 = "shop.core.views.server_error"
