"""The search API, included under /api/v1/ (namespace "api")."""

from django.urls import path

from search import api

urlpatterns = [
    path("search/", api.SearchApi.as_view(), name="search"),
    path("search/suggest/", api.SuggestApi.as_view(), name="search-suggest"),
]
