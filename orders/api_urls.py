"""The checkout and order API, included under /api/v1/ (namespace "api")."""

from django.urls import path

from . import api

urlpatterns = [
    path("checkout/shipping-methods/", api.ShippingMethodListApi.as_view(), name="checkout-shipping-methods"),
    path("checkout/", api.CheckoutStartApi.as_view(), name="checkout-start"),
    path("checkout/<int:checkout_id>/", api.CheckoutDetailApi.as_view(), name="checkout-detail"),
    path("checkout/<int:checkout_id>/pay/", api.CheckoutPayApi.as_view(), name="checkout-pay"),
    path("orders/", api.OrderListApi.as_view(), name="order-list"),
    path("orders/<str:number>/", api.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<str:number>/cancel/", api.OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<str:number>/returns/", api.OrderReturnApi.as_view(), name="order-returns"),
]
