"""The project's URLs with the cart's pages and API in place, until shop/urls.py includes them.

Strings, not imports: no app imports the composition root (pyproject.toml's contracts)."""

from django.urls import include, path

urlpatterns = [
    path("api/v1/", include(([path("", include("cart.api_urls"))], "cart-api"))),
    path("cart/", include("cart.urls")),
    path("", include("shop.urls")),
]
