"""The storefront's read API, included under /api/v1/ (namespace "api")."""

from django.urls import path

from storefront import api

urlpatterns = [
    path("products/<slug:slug>/", api.ProductDetailApi.as_view(), name="product-detail"),
    path("categories/", api.CategoryListApi.as_view(), name="category-list"),
]
