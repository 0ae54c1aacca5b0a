"""The sellers' pages, included at /sellers/ (namespace "sellers"). The seller admin is at /seller/."""

from django.urls import path

from . import views

app_name = "sellers"
urlpatterns = [
    path("apply/", views.onboarding, name="onboarding"),
]
