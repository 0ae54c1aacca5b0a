from django.urls import path

from storefront import views

app_name = "storefront"
urlpatterns = [
    path("", views.home, name="home"),
    path("c/<path:path>/", views.category, name="category"),
    path("p/<slug:slug>/", views.product, name="product"),
    path("s/<slug:slug>/", views.seller, name="seller"),
    path("help/", views.help_page, name="help"),
    path("sell/", views.sell_page, name="sell"),
    path("favicon.ico", views.favicon, name="favicon"),
]
