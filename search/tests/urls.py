"""The test URLs: the project's, plus the search API and page until shop/urls.py includes them.

``shop.urls`` is named as a string, so the search app does not import the composition root."""

from django.urls import include, path

urlpatterns = [
    path("api/v1/", include(("search.api_urls", "search-api"))),
    path("search/", include("search.urls")),
    path("", include("shop.urls")),
]
