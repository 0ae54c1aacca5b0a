from django.urls import path

from storefront import views

app_name = "storefront"
urlpatterns = [
    path("", views.home, name="home"),
    path("help/", views.help_page, name="help"),
    path("sell/", views.sell_page, name="sell"),
    path("favicon.ico", views.favicon, name="favicon"),
]
