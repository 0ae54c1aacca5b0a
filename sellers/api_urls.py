"""The sellers API, included under /api/v1/ (namespace "api")."""

from django.urls import path

from . import api

urlpatterns = [
    path("sellers/apply/", api.SellerApplyApi.as_view(), name="seller-apply"),
]
