"""The checkout and order pages, included at the site root (namespace "orders")."""

from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("checkout/", views.checkout_entry, name="checkout"),
    path("checkout/address/", views.checkout_address, name="checkout_address"),
    path("checkout/shipping/", views.checkout_shipping, name="checkout_shipping"),
    path("checkout/review/", views.checkout_review, name="checkout_review"),
    path("checkout/coupon/", views.checkout_coupon_apply, name="checkout_coupon"),
    path("checkout/coupon/remove/", views.checkout_coupon_remove, name="checkout_coupon_remove"),
    path("checkout/start/", views.checkout_start, name="checkout_start"),
    path("checkout/<int:checkout_id>/pay/", views.checkout_pay, name="checkout_pay"),
    path("checkout/<int:checkout_id>/abandon/", views.checkout_abandon, name="checkout_abandon"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
    path("orders/<str:number>/confirmation/", views.confirmation, name="confirmation"),
    path("orders/<str:number>/cancel/", views.order_cancel, name="order_cancel"),
    path("orders/<str:number>/returns/", views.order_return, name="order_return"),
]
