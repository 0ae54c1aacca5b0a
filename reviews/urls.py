from django.urls import path

from reviews import views

app_name = "reviews"
urlpatterns = [
    path("p/<slug:slug>/new/", views.review_new, name="new"),
    path("<int:review_id>/edit/", views.review_edit, name="edit"),
    path("<int:review_id>/delete/", views.review_delete, name="delete"),
    path("<int:review_id>/helpful/", views.review_helpful, name="helpful"),
    path("<int:review_id>/report/", views.review_report, name="report"),
]
