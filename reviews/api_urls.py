"""The reviews API, included under /api/v1/ (namespace "api")."""

from django.urls import path

from reviews import api

urlpatterns = [
    path("products/<slug:slug>/reviews/", api.ProductReviewsApi.as_view(), name="product-reviews"),
    path("reviews/<int:review_id>/", api.ReviewDetailApi.as_view(), name="review-detail"),
    path("reviews/<int:review_id>/helpful/", api.ReviewHelpfulApi.as_view(), name="review-helpful"),
    path("reviews/<int:review_id>/report/", api.ReviewReportApi.as_view(), name="review-report"),
    path("reviews/<int:review_id>/photos/", api.ReviewPhotoApi.as_view(), name="review-photos"),
]
