"""The seller API, included under /api/v1/ (namespace "api")."""

from django.urls import path

from . import api

urlpatterns = [
    path("seller/products/", api.SellerProductListApi.as_view(), name="seller-product-list"),
    path("seller/products/<slug:slug>/", api.SellerProductDetailApi.as_view(), name="seller-product-detail"),
    path("seller/stock/<str:sku>/", api.SellerStockApi.as_view(), name="seller-stock"),
]
