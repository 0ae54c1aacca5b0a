"""The accounts API, included under /api/v1/ (namespace "api")."""

from django.urls import path

from . import api

urlpatterns = [
    path("auth/register/", api.RegisterApi.as_view(), name="auth-register"),
    path("auth/token/", api.TokenObtainPairApi.as_view(), name="auth-token"),
    path("auth/token/refresh/", api.TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("me/addresses/", api.AddressListApi.as_view(), name="address-list"),
    path("me/addresses/<int:pk>/", api.AddressDetailApi.as_view(), name="address-detail"),
]
