"""The cart's pages, included at /cart/."""

from django.urls import path

from cart import views

app_name = "cart"
urlpatterns = [
    path("", views.cart_detail, name="detail"),
    path("items/", views.item_add, name="add"),
    path("items/<str:sku>/", views.item_update, name="update"),
    path("items/<str:sku>/remove/", views.item_remove, name="remove"),
]
